"""Mail authentication (issue 5): DKIM signing and verification, SPF,
DMARC, Authentication-Results, end to end through the real server, with
dnsmasq serving the records and dkimpy / pyspf / opendkim as the other
side."""
import os
import re
import shutil
import smtplib
import subprocess
import time

import dkim
import pytest

from conftest import client_tls_context, free_port_on

PW = "password123"


def keygen(f, domain, selector, alg):
    """Runs `facteur dkim keygen` and returns (key path, TXT record)."""
    r = f.cli("dkim", "keygen", domain, "--selector", selector, "--algorithm", alg)
    strings = re.findall(r'"([^"]*)"', r.stdout)
    assert strings and all(len(s) <= 255 for s in strings), r.stdout
    path = f.data_dir / "dkim" / domain / f"{selector}.{alg}.key"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    return path, "".join(strings)


def txt_arg(text):
    """dnsmasq --txt-record takes comma-separated strings (quotes would be
    kept literally): long records are split into strings of 250."""
    return ",".join(text[i:i + 250] for i in range(0, len(text), 250))


def verifies(msg, idx, dnsfunc):
    try:
        return dkim.DKIM(msg).verify(idx=idx, dnsfunc=dnsfunc)
    except dkim.DKIMException:
        return False


def headers_of(data):
    return data.split(b"\n\n", 1)[0].decode(errors="replace")


def authres(data):
    """The Authentication-Results field we added, unfolded."""
    m = re.search(r"^Authentication-Results: mail\.example\.test;(.*?)(?=^\S)",
                  headers_of(data.replace(b"\r\n", b"\n")) + "\nX: end\n", re.S | re.M)
    assert m, headers_of(data)
    return " ".join(m.group(1).split())


@pytest.fixture
def signer(make_facteur, dns_server, sinks):
    """A facteur with RSA and Ed25519 keys for example.test, a DNS server
    publishing them, and a receiver for remote.test on 127.0.0.2."""
    port = free_port_on("127.0.0.2")
    f = make_facteur(listen={"smtp": "127.0.0.1", "submission": "127.0.0.1"},
                     extra={"delivery.port": str(port), "auth.failure_delay": "100ms"})
    f.add_user("alice@example.test")
    _, rsa = keygen(f, "example.test", "s1", "rsa")
    _, ed = keygen(f, "example.test", "s2", "ed25519")
    d = dns_server(mx=[("remote.test", "mx.remote.test", 10)], a=[("mx.remote.test", "127.0.0.2")],
                   txt=[("s1._domainkey.example.test", txt_arg(rsa)),
                        ("s2._domainkey.example.test", txt_arg(ed))])
    f.extra["dns.resolver"] = d.resolver
    f.write_config()
    f.start()
    sink = sinks("127.0.0.2", port)
    return f, sink, {"s1._domainkey.example.test.": rsa.encode(),
                     "s2._domainkey.example.test.": ed.encode()}


def submit(f, rcpt, body):
    with smtplib.SMTP(*f.addr("submission"), timeout=10) as s:
        s.starttls(context=client_tls_context())
        s.login("alice@example.test", PW)
        s.sendmail("alice@example.test", [rcpt], body)


BODY = (b"From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\n"
        b"Subject: a rather long subject line that goes on and on and on so that it\r\n"
        b" is folded over two lines\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m1@example.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"caf\xc3\xa9  with  spaces   \r\n.dot line\r\n\r\n\r\n")


def test_outgoing_mail_is_dual_signed_and_verifies_with_dkimpy(signer):
    f, sink, records = signer
    submit(f, "bob@remote.test", BODY)
    [(_, _, content, _)] = sink.wait(1)
    sigs = [l for l in content.split(b"\r\n") if l.startswith(b"DKIM-Signature:")]
    assert len(sigs) == 2
    assert b"a=rsa-sha256" in content and b"a=ed25519-sha256" in content
    dnsfunc = lambda name, timeout=5: records.get(name.decode() if isinstance(name, bytes) else name)
    for i in range(2):
        assert verifies(content, i, dnsfunc), f"signature {i} does not verify"
    assert b"c=relaxed/relaxed" in content
    assert b" l=" not in content and b";l=" not in content
    h = re.search(rb"h=([^;]*);", content.replace(b"\r\n\t", b"").replace(b"\r\n ", b"")).group(1)
    fields = [x.strip().lower() for x in h.split(b":")]
    assert fields.count(b"from") == 2                 # over-signed
    for name in (b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"):
        assert name in fields
    # A tampered body or header fails.
    bad = content.replace(b".dot line", b".dot lime")
    assert not verifies(bad, 0, dnsfunc) and not verifies(bad, 1, dnsfunc)
    bad = content.replace(b"Subject: a rather", b"Subject: a Rather")
    assert not verifies(bad, 0, dnsfunc) and not verifies(bad, 1, dnsfunc)
    assert "event=dkim-signed d=example.test s=s1" in f.log()


def test_keygen_refuses_to_overwrite(signer):
    f, _, _ = signer
    r = f.cli("dkim", "keygen", "example.test", "--selector", "s1", "--algorithm", "rsa", check=False)
    assert r.returncode == 1 and "exists already" in r.stderr
    out = f.cli("dkim", "show", "example.test").stdout
    assert "s1._domainkey.example.test. IN TXT" in out and "k=ed25519" in out


def test_opendkim_verifies_our_signature(signer, tmp_path):
    """opendkim-testmsg reads keys through the system resolver: run it in a
    private network+mount namespace with dnsmasq on port 53 there."""
    if os.geteuid() != 0 or not shutil.which("opendkim-testmsg") or not shutil.which("unshare"):
        pytest.skip("needs root, unshare and opendkim-tools")
    f, sink, records = signer
    submit(f, "bob@remote.test", BODY)
    [(_, _, content, _)] = sink.wait(1)
    # The RSA signature only: opendkim 2.11 reads Ed25519 keys, but the test
    # publishes one record.
    head, body = content.split(b"\r\n\r\n", 1)
    fields, cur = [], []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and cur:
            cur.append(line)
        else:
            cur = [line]
            fields.append(cur)
    kept = [f for f in fields if not (f[0].startswith(b"DKIM-Signature:") and
                                      b"a=ed25519" in b"".join(f))]
    out = [b"\r\n".join(f) for f in kept]
    out = (b"\r\n".join(out) + b"\r\n\r\n" + body).replace(b"\r\n", b"\n").split(b"\n")
    msg = tmp_path / "msg.eml"
    msg.write_bytes(b"\n".join(out))
    rsa = records["s1._domainkey.example.test."].decode()
    script = tmp_path / "run.sh"
    script.write_text(f"""ip link set lo up
echo "nameserver 127.0.0.1" > {tmp_path}/resolv.conf
mount --bind {tmp_path}/resolv.conf /etc/resolv.conf
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \\
  --listen-address=127.0.0.1 --port=53 --bind-interfaces --user=root \\
  '--txt-record=s1._domainkey.example.test,{txt_arg(rsa)}' &
DNSMASQ=$!
sleep 0.5
opendkim-testmsg < {msg}
echo opendkim-rc=$?
kill $DNSMASQ
wait
""")
    r = subprocess.run(["unshare", "-mn", "sh", str(script)], capture_output=True, text=True, timeout=60)
    assert "opendkim-rc=0" in r.stdout, r.stdout + r.stderr


def send_in(f, mail_from, body, rcpt="bob@example.test"):
    with smtplib.SMTP(*f.addr("smtp"), timeout=10) as s:
        s.ehlo("client.sender.test")
        s.sendmail(mail_from, [rcpt], body)


def dkimpy_key(tmp_path, alg):
    if alg == "rsa":
        key = tmp_path / "rsa.pem"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        pub = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        import base64
        return key.read_bytes(), f"v=DKIM1; k=rsa; p={base64.b64encode(pub).decode()}"
    import base64
    import nacl.signing
    sk = nacl.signing.SigningKey.generate()
    return base64.b64encode(bytes(sk)), \
        f"v=DKIM1; k=ed25519; p={base64.b64encode(bytes(sk.verify_key)).decode()}"


@pytest.fixture
def receiver(make_facteur, dns_server, tmp_path):
    """A facteur receiving for example.test, and a DNS server that the
    test fills in: receiver(txt=[...]) -> started Facteur."""
    def start(txt=(), extra=None, a=(), ttl=0):
        d = dns_server(txt=list(txt), a=list(a), ttl=ttl)
        conf = {"dns.resolver": d.resolver}
        conf.update(extra or {})
        f = make_facteur(extra=conf)
        f.add_user("bob@example.test")
        f.start()
        return f
    return start


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
@pytest.mark.parametrize("canon", [b"relaxed/relaxed", b"simple/simple", b"relaxed/simple",
                                   b"simple/relaxed"])
def test_incoming_dkimpy_signatures_verify(receiver, tmp_path, alg, canon):
    key, record = dkimpy_key(tmp_path, alg)
    f = receiver(txt=[("sel._domainkey.sender.test", txt_arg(record))])
    msg = (b"From: someone@sender.test\r\nTo: bob@example.test\r\nSubject: signed\r\n\r\n"
           b"Hello  there \r\n\r\n")
    sig = dkim.sign(msg, b"sel", b"sender.test", key, canonicalize=tuple(canon.split(b"/")),
                    signature_algorithm=b"ed25519-sha256" if alg == "ed25519" else b"rsa-sha256",
                    include_headers=[b"from", b"to", b"subject"])
    send_in(f, "someone@sender.test", sig + msg)
    send_in(f, "someone@sender.test", sig + msg.replace(b"Hello", b"Jello"))
    msgs = f.wait_messages("bob@example.test", 2)
    results = sorted(authres(p.read_bytes()) for p in msgs)
    assert any("dkim=pass header.d=sender.test header.s=sel" in r for r in results), results
    assert any("dkim=fail header.d=sender.test" in r for r in results), results


def test_dkim_l_tag_with_content_appended_is_not_honoured(receiver, tmp_path):
    """RFC 6376 8.2: a signature with l= still verifies when content is
    appended after the signed part (a replayed message with a new part):
    facteur reports dkim=policy for it, which DMARC does not count."""
    key, record = dkimpy_key(tmp_path, "rsa")
    f = receiver(txt=[("sel._domainkey.sender.test", txt_arg(record))])
    msg = b"From: someone@sender.test\r\nSubject: l=\r\n\r\nthe signed part\r\n"
    sig = dkim.sign(msg, b"sel", b"sender.test", key, length=True,
                    include_headers=[b"from", b"subject"])
    assert b"l=" in sig
    send_in(f, "someone@sender.test", sig + msg)
    send_in(f, "someone@sender.test", sig + msg + b"appended after signing\r\n")
    results = [authres(p.read_bytes()) for p in f.wait_messages("bob@example.test", 2)]
    assert any("dkim=pass header.d=sender.test" in r for r in results), results
    assert any("dkim=policy header.d=sender.test" in r for r in results), results


def test_dkim_revoked_and_missing_keys(receiver, tmp_path):
    key, record = dkimpy_key(tmp_path, "rsa")
    f = receiver(txt=[("gone._domainkey.sender.test", "v=DKIM1; p=")])
    msg = b"From: a@sender.test\r\nSubject: x\r\n\r\nbody\r\n"
    for sel in (b"gone", b"nokey"):
        send_in(f, "a@sender.test", dkim.sign(msg, sel, b"sender.test", key) + msg)
    results = [authres(p.read_bytes()) for p in f.wait_messages("bob@example.test", 2)]
    assert all("dkim=permerror" in r for r in results), results


SPF_CASES = [
    # (record for sender.test, expected result)
    ("v=spf1 ip4:127.0.0.1 -all", "pass"),
    ("v=spf1 -all", "fail"),
    ("v=spf1 ~all", "softfail"),
    ("v=spf1 ?all", "neutral"),
    ("v=spf1 a -all", "pass"),
    ("v=spf1 include:inc.test -all", "pass"),
    ("v=spf1 ip4:127.0.0.0/8 ip4:10.0.0.0/8 -all bogus:", "permerror"),
]


@pytest.mark.parametrize("record,result", SPF_CASES)
def test_spf_result_in_authentication_results(receiver, record, result):
    f = receiver(txt=[("sender.test", record), ("inc.test", "v=spf1 ip4:127.0.0.1 -all")],
                 a=[("sender.test", "127.0.0.1")])
    send_in(f, "a@sender.test", b"From: a@sender.test\r\nSubject: spf\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    assert f"spf={result} smtp.mailfrom=sender.test" in authres(p.read_bytes())


def test_spf_none_and_helo_for_null_sender(receiver):
    f = receiver(txt=[("client.sender.test", "v=spf1 ip4:127.0.0.1 -all")])
    send_in(f, "", b"From: MAILER-DAEMON@client.sender.test\r\nSubject: bounce\r\n\r\nx\r\n")
    send_in(f, "a@nospf.test", b"From: a@nospf.test\r\nSubject: none\r\n\r\nx\r\n")
    res = sorted(authres(p.read_bytes()) for p in f.wait_messages("bob@example.test", 2))
    assert any("spf=pass smtp.helo=client.sender.test" in r for r in res), res
    assert any("spf=none smtp.mailfrom=nospf.test" in r for r in res), res


def test_cached_answers_give_the_same_results(receiver, tmp_path):
    """With answers that carry a TTL, facteur keeps them (src/dns/dns_cache.c):
    the second and third messages are judged from the cache, alike."""
    key, record = dkimpy_key(tmp_path, "ed25519")
    f = receiver(txt=[("sender.test", "v=spf1 ip4:127.0.0.1 -all"),
                      ("_dmarc.sender.test", "v=DMARC1; p=reject"),
                      ("sel._domainkey.sender.test", txt_arg(record))], ttl=300)
    msg = b"From: a@sender.test\r\nTo: bob@example.test\r\nSubject: c\r\n\r\nx\r\n"
    for _ in range(3):
        send_in(f, "a@sender.test", dkim.sign(msg, b"sel", b"sender.test", key,
                                               signature_algorithm=b"ed25519-sha256") + msg)
    results = [authres(p.read_bytes()) for p in f.wait_messages("bob@example.test", 3)]
    for r in results:
        assert "dkim=pass" in r and "spf=pass" in r and "dmarc=pass" in r, results


def test_hostile_helo_cannot_add_a_verdict(receiver):
    """The HELO name goes into Authentication-Results for the null sender:
    anything but a plain domain is quoted (RFC 8601 2.2), so it cannot
    smuggle a ";dmarc=pass" of its own."""
    f = receiver(txt=[])
    with smtplib.SMTP(*f.addr("smtp"), timeout=10) as s:
        s.ehlo('x;dmarc=pass"\\')
        s.sendmail("", ["bob@example.test"], b"From: a@bank.test\r\nSubject: x\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    res = authres(p.read_bytes())
    assert 'smtp.helo="x;dmarc=pass\\"\\\\";' in res, res
    assert res.count("dmarc=") == 2, res        # the quoted one and ours


DMARC_REJECT = "v=DMARC1; p=reject"


def test_dmarc_pass_by_spf_alignment(receiver):
    f = receiver(txt=[("sender.test", "v=spf1 ip4:127.0.0.1 -all"), ("_dmarc.sender.test", DMARC_REJECT)])
    send_in(f, "a@sender.test", b"From: a@sender.test\r\nSubject: ok\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    assert "dmarc=pass (p=reject) header.from=sender.test" in authres(p.read_bytes())


def test_dmarc_reject_refuses_at_end_of_data(receiver):
    f = receiver(txt=[("_dmarc.bank.test", DMARC_REJECT),
                      ("attacker.test", "v=spf1 ip4:127.0.0.1 -all")])
    with pytest.raises(smtplib.SMTPDataError) as e:
        send_in(f, "x@attacker.test", b"From: ceo@bank.test\r\nSubject: pay\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1")
    assert b"bank.test" in e.value.smtp_error
    time.sleep(0.3)
    assert f.messages("bob@example.test") == []


def test_dmarc_quarantine_goes_to_junk(receiver):
    f = receiver(txt=[("_dmarc.shop.test", "v=DMARC1; p=quarantine")])
    send_in(f, "x@attacker.test", b"From: news@shop.test\r\nSubject: promo\r\n\r\nx\r\n")
    junk = f.maildir("bob@example.test") / ".Junk" / "new"
    end = time.time() + 10
    while time.time() < end and not (junk.is_dir() and list(junk.iterdir())):
        time.sleep(0.05)
    [p] = list(junk.iterdir())
    assert "dmarc=fail (p=quarantine) header.from=shop.test" in authres(p.read_bytes())
    assert f.messages("bob@example.test") == []


def test_dmarc_reject_action_quarantine(receiver):
    f = receiver(txt=[("_dmarc.bank.test", DMARC_REJECT)],
                 extra={"dmarc.reject_action": "quarantine"})
    send_in(f, "x@attacker.test", b"From: ceo@bank.test\r\nSubject: pay\r\n\r\nx\r\n")
    junk = f.maildir("bob@example.test") / ".Junk" / "new"
    end = time.time() + 10
    while time.time() < end and not (junk.is_dir() and list(junk.iterdir())):
        time.sleep(0.05)
    assert len(list(junk.iterdir())) == 1


def test_dmarc_subdomain_and_org_domain(receiver):
    """mail.bank.test has no record: the org domain's sp= applies."""
    f = receiver(txt=[("_dmarc.bank.test", "v=DMARC1; p=reject; sp=none")])
    send_in(f, "x@attacker.test", b"From: a@mail.bank.test\r\nSubject: sub\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    assert "dmarc=fail (p=none) header.from=mail.bank.test" in authres(p.read_bytes())


def test_dmarc_relaxed_dkim_alignment(receiver, tmp_path):
    key, record = dkimpy_key(tmp_path, "rsa")
    f = receiver(txt=[("k._domainkey.sender.test", txt_arg(record)),
                      ("_dmarc.news.sender.test", "v=DMARC1; p=reject; adkim=r")])
    msg = b"From: a@news.sender.test\r\nSubject: aligned\r\n\r\nx\r\n"
    send_in(f, "bounces@esp.test", dkim.sign(msg, b"k", b"sender.test", key) + msg)
    [p] = f.wait_messages("bob@example.test", 1)
    assert "dmarc=pass" in authres(p.read_bytes())


def test_dmarc_strict_dkim_alignment_fails(receiver, tmp_path):
    key, record = dkimpy_key(tmp_path, "rsa")
    f = receiver(txt=[("k._domainkey.sender.test", txt_arg(record)),
                      ("_dmarc.news.sender.test", "v=DMARC1; p=quarantine; adkim=s")])
    msg = b"From: a@news.sender.test\r\nSubject: strict\r\n\r\nx\r\n"
    send_in(f, "bounces@esp.test", dkim.sign(msg, b"k", b"sender.test", key) + msg)
    junk = f.maildir("bob@example.test") / ".Junk" / "new"
    end = time.time() + 10
    while time.time() < end and not (junk.is_dir() and list(junk.iterdir())):
        time.sleep(0.05)
    assert len(list(junk.iterdir())) == 1


def test_forged_authentication_results_renamed(receiver):
    f = receiver()
    send_in(f, "a@x.test", b"Authentication-Results: mail.example.test; dkim=pass header.d=bank.test\r\n"
            b"Authentication-Results: other.example; spf=pass\r\nFrom: a@x.test\r\nSubject: f\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    data = p.read_bytes()
    assert data.count(b"Authentication-Results: mail.example.test;") == 1     # ours only
    assert b"X-Dropped-Auth-Results: mail.example.test; dkim=pass" in data
    assert b"Authentication-Results: other.example; spf=pass" in data


def test_forged_authentication_results_behind_a_fold_or_comment_renamed(receiver):
    """RFC 8601 2.2: the authserv-id may follow folding whitespace and
    comments; a plain trim missed it and the forged verdict stayed."""
    f = receiver()
    send_in(f, "a@x.test", b"Authentication-Results:\r\n\tmail.example.test; dkim=pass\r\n"
            b"Authentication-Results: (x (y)) mail.example.test; dmarc=pass\r\n"
            b"From: a@x.test\r\nSubject: f\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    data = p.read_bytes()
    assert data.count(b"X-Dropped-Auth-Results:") == 2, data
    assert data.count(b"Authentication-Results: mail.example.test;") == 1


def test_a_short_b_tag_does_not_break_our_header(receiver, tmp_path):
    """header.b= shows the first characters of b=, without its folding:
    a signature ending in a short b= put its CRLF into our field, which
    ended the header section there for strict readers."""
    f = receiver()
    send_in(f, "a@x.test", b"DKIM-Signature: v=1; a=rsa-sha256; d=x.test; s=k; h=from;\r\n"
            b" bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AA==\r\nFrom: a@x.test\r\nSubject: short b\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    data = p.read_bytes()
    assert "header.b=AA==;" in authres(data), authres(data)
    head = data.split(b"\n\n", 1)[0]
    assert all(line[:1] in (b" ", b"\t") or b":" in line for line in head.split(b"\n")), head


@pytest.mark.parametrize("froms", [
    b"From: ceo@bank.test\r\nFrom: x@attacker.test\r\n",
    b"From: ceo@bank.test, x@attacker.test\r\n",
])
def test_a_from_dmarc_cannot_judge_is_refused(receiver, froms):
    """Two From: fields (DKIM picks the lower, a reader may show the
    upper), or From: addresses in two domains: DMARC cannot say whose
    policy applies, so its permerror let a forgery of bank.test through.
    Mail from other servers with such a From: is refused (RFC 7489
    6.6.1); none at all is not (no one to impersonate)."""
    f = receiver(txt=[("_dmarc.bank.test", DMARC_REJECT),
                      ("attacker.test", "v=spf1 ip4:127.0.0.1 -all"),
                      ("_dmarc.attacker.test", "v=DMARC1; p=none")])
    with pytest.raises(smtplib.SMTPDataError) as e:
        send_in(f, "x@attacker.test", froms + b"Subject: pay\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1"), e.value
    send_in(f, "x@attacker.test", b"Subject: no From at all\r\n\r\nx\r\n")
    [p] = f.wait_messages("bob@example.test", 1)
    assert b"no From at all" in p.read_bytes()


def test_a_from_domain_too_long_for_its_dmarc_name_gets_the_org_policy(receiver):
    """_dmarc. + a From: domain of 249 characters or more is not a DNS
    name: it was a temporary failure, and a temperror was let through.
    No such name exists, so the organizational domain's policy applies."""
    f = receiver(txt=[("_dmarc.bank.test", DMARC_REJECT),
                      ("attacker.test", "v=spf1 ip4:127.0.0.1 -all")])
    long = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 50]) + ".bank.test"
    assert len(long) >= 249
    with pytest.raises(smtplib.SMTPDataError) as e:
        send_in(f, "x@attacker.test", b"From: ceo@" + long.encode() + b"\r\nSubject: pay\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550 and b"DMARC" in e.value.smtp_error, e.value


def test_authenticated_mail_is_not_checked_inbound(signer):
    f, sink, _ = signer
    submit(f, "bob@remote.test", BODY)
    [(_, _, content, _)] = sink.wait(1)
    assert b"Authentication-Results:" not in content


def test_a_planted_symlink_is_not_read_as_a_dkim_key(make_facteur, tmp_path):
    """Keys are read as root at startup, in dkim/ which the server's user
    owns: a key file that is a symlink (to a key root alone may read) or
    a FIFO (which would hang the start) is refused and logged, and the
    real keys of the domain still load."""
    import os
    f = make_facteur(listen={"smtp": "127.0.0.1"})
    keygen(f, "example.test", "s1", "ed25519")
    elsewhere, _ = keygen(f, "other.test", "s9", "ed25519")
    d = f.data_dir / "dkim" / "example.test"
    os.symlink(elsewhere, d / "s2.ed25519.key")
    os.mkfifo(d / "s3.ed25519.key", 0o600)
    # A domain directory that is a link to another's keys: not read.
    os.symlink(f.data_dir / "dkim" / "other.test", f.data_dir / "dkim" / "linked.test")
    f.start()
    f.wait_log(r"event=dkim-key-error errors=.*s3\.ed25519\.key: cannot open")
    # s1 and other.test's s9: not the link (the error line is cut at 200).
    f.wait_log(r"event=start .* dkim_keys=2 ")


def test_keys_past_four_are_reported_and_numeric_selectors_made(make_facteur):
    """A domain signs with at most 4 keys: a fifth was dropped without a
    word (which one depended on the directory's order). And `dkim
    keygen` refused the all-digit selectors (Google's 20230601 style)
    that the server reads."""
    f = make_facteur(listen={"smtp": "127.0.0.1"})
    keygen(f, "example.test", "20261130", "ed25519")
    for sel in ("a", "b", "c", "d"):
        keygen(f, "example.test", sel, "ed25519")
    f.start()
    f.wait_log(r"event=dkim-key-error errors=.*not used, the domain has 4 keys already")
    f.wait_log(r"event=start .* dkim_keys=4 ")
