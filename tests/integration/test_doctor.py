"""`facteur dns` and `facteur doctor` (issue 10).

The records `facteur dns` prints are parsed back: they must hold the keys
on disk. Then a dnsmasq on loopback serves them, whole (the doctor must
pass) or with one thing broken (the doctor must report exactly that, with
its fix). The mail host is 127.0.0.1, named mail.example.test, with the
PTR 127.0.0.1 -> mail.example.test; a real facteur runs there, so the
listener checks and the relay self-test talk to it.
"""
import base64
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from conftest import BIN, free_port

DOMAIN = "example.test"
HOST = "mail.example.test"
IP = "127.0.0.1"


# --------------------------------------------------------------------------
# zone files: what `facteur dns` prints, read back

def parse_zone(text):
    """Zone-file lines -> [(name, type, rdata)]. TXT rdata is the strings
    joined; other rdata is the list of fields. Comments are skipped."""
    records, lines = [], iter(text.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        if "(" in line and ")" not in line:
            while ")" not in line:
                line += " " + next(lines)
        name, cls, rtype, rest = line.split(None, 3)
        assert cls == "IN" and name.endswith("."), line
        if rtype == "TXT":
            strings = re.findall(r'"([^"]*)"', rest)
            assert strings and all(len(s) <= 255 for s in strings), line
            records.append((name[:-1], rtype, "".join(strings)))
        else:
            records.append((name[:-1], rtype, rest.split()))
    return records


def find(records, name, rtype):
    return [r for n, t, r in records if n == name and t == rtype]


def txt_arg(text):
    """dnsmasq --txt-record takes comma-separated strings (quotes are kept
    literally), so long records go as strings of 250."""
    return ",".join(text[i:i + 250] for i in range(0, len(text), 250))


class Zone:
    """A dnsmasq serving exactly the records given: MX, A (without the PTR
    that --host-record would add), PTR and TXT."""

    def __init__(self, root, records):
        if not shutil.which("dnsmasq"):
            pytest.skip("dnsmasq not installed (Debian package dnsmasq-base)")
        self.port = free_port()
        self.log = root / f"zone-{self.port}.log"
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--listen-address=127.0.0.1", f"--port={self.port}",
                "--bind-interfaces", "--local=/test/", "--local=/in-addr.arpa/",
                f"--log-facility={self.log}"]
        if os.geteuid() == 0:
            args.append("--user=root")
        for name, rtype, data in records:
            if rtype == "MX":
                args.append(f"--mx-host={name},{data[1].rstrip('.')},{data[0]}")
            elif rtype in ("A", "AAAA"):
                args.append(f"--address=/{name}/{data[0]}")
            elif rtype == "PTR":
                args.append(f"--ptr-record={name},{data[0].rstrip('.')}")
            elif rtype == "TXT":
                args.append(f"--txt-record={name},{txt_arg(data)}")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.time() + 5
        while time.time() < end:
            if self.log.exists() and "started" in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq failed: " + self.proc.stderr.read().decode())
            time.sleep(0.05)

    @property
    def resolver(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


@pytest.fixture
def zones(tmp_path):
    made = []

    def start(records):
        z = Zone(tmp_path, records)
        made.append(z)
        return z

    yield start
    for z in made:
        z.stop()


# --------------------------------------------------------------------------
# the host: a running facteur with two DKIM keys

@pytest.fixture
def host(make_facteur):
    f = make_facteur(domains=(DOMAIN,), hostname=HOST,
                     listen={"smtp": IP, "submission": IP, "submissions": IP, "pop3s": IP},
                     extra={"auth.failure_delay": "100ms"})
    f.add_user(f"alice@{DOMAIN}")
    f.set_aliases(f"postmaster@{DOMAIN}: alice@{DOMAIN}\n")
    f.cli("dkim", "keygen", DOMAIN, "--selector", "s1", "--algorithm", "rsa")
    f.cli("dkim", "keygen", DOMAIN, "--selector", "s2", "--algorithm", "ed25519")
    return f


def good_zone(f):
    return parse_zone(f.cli("dns", DOMAIN, "--ip", IP).stdout)


class Report:
    def __init__(self, r):
        self.rc = r.returncode
        self.out = r.stdout
        self.lines = [l for l in r.stdout.splitlines() if re.match(r"(OK  |WARN|FAIL) ", l)]
        assert r.stdout.rstrip().splitlines()[-1].endswith(("warning", "warnings")), r.stdout

    def level(self, level):
        return [l for l in self.lines if l.startswith(level)]

    def checks(self, level):
        """The check names ("mx", "spf", "dkim", ...) at that level."""
        return sorted({l[5:].split()[0] for l in self.level(level)})

    def line(self, prefix):
        found = [l for l in self.lines if l[5:].startswith(prefix)]
        assert found, f"no line for {prefix!r}:\n{self.out}"
        return found


def doctor(f, zones, records, *args):
    z = zones(records)
    f.extra["dns.resolver"] = z.resolver
    f.write_config()
    r = f.cli("doctor", DOMAIN, "--ip", IP, *args, check=False)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return Report(r)


def without(records, name, rtype):
    return [r for r in records if not (r[0] == name and r[1] == rtype)]


def replace_txt(records, name, text):
    return without(records, name, "TXT") + [(name, "TXT", text)]


# --------------------------------------------------------------------------
# facteur dns

def public_p(keyfile):
    """The p= a key record must hold for this private key (RFC 6376 3.6.1,
    RFC 8463 4.2): base64 SubjectPublicKeyInfo, or raw Ed25519."""
    key = serialization.load_pem_private_key(keyfile.read_bytes(), None)
    pub = key.public_key()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = pub.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode()


def tags(record):
    return dict(t.strip().split("=", 1) for t in record.split(";") if t.strip())


def test_dns_records_match_config_and_keys(host):
    out = host.cli("dns", DOMAIN, "--ip", IP, "--ip", "2001:db8::25").stdout
    z = parse_zone(out)
    assert find(z, DOMAIN, "MX") == [["10", HOST + "."]]
    assert find(z, HOST, "A") == [[IP]] and find(z, HOST, "AAAA") == [["2001:db8::25"]]
    assert find(z, "1.0.0.127.in-addr.arpa", "PTR") == [[HOST + "."]]
    assert find(z, "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                "PTR") == [[HOST + "."]]
    assert find(z, DOMAIN, "TXT") == ["v=spf1 mx -all"]
    assert find(z, f"_dmarc.{DOMAIN}", "TXT") == [
        f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{DOMAIN}"]
    assert find(z, f"_smtp._tls.{DOMAIN}", "TXT") == [
        f"v=TLSRPTv1; rua=mailto:postmaster@{DOMAIN}"]
    # DKIM: one record per key on disk, holding that key.
    keys = sorted((host.data_dir / "dkim" / DOMAIN).glob("*.key"))
    assert [k.name for k in keys] == ["s1.rsa.key", "s2.ed25519.key"]
    for key in keys:
        selector, alg = key.name.split(".")[:2]
        [rec] = find(z, f"{selector}._domainkey.{DOMAIN}", "TXT")
        t = tags(rec)
        assert t["v"] == "DKIM1" and t["k"] == alg and t["p"] == public_p(key), rec
    # MTA-STS: the id is derived from the policy printed with it.
    policy = re.findall(r"^;   (\w+: .*)$", out, re.M)
    assert policy == ["version: STSv1", "mode: testing", f"mx: {HOST}", "max_age: 604800"]
    text = "".join(l + "\r\n" for l in policy).encode()
    [sts] = find(z, f"_mta-sts.{DOMAIN}", "TXT")
    assert sts == f"v=STSv1; id={hashlib.sha256(text).hexdigest()[:16]}"
    # RFC 6186 SRV records: the configured ports; no IMAP.
    srv = {n.split(".")[0]: r for n, t, r in z if t == "SRV"}
    assert srv["_submission"][2] == str(host.ports["submission"])
    assert srv["_submissions"][2] == str(host.ports["submissions"])
    assert srv["_pop3s"][2] == str(host.ports["pop3s"])
    assert srv["_submissions"][3] == srv["_pop3s"][3] == HOST + "."
    assert srv["_imap"] == srv["_imaps"] == srv["_pop3"] == ["0", "0", "0", "."]


def test_dns_without_domain_covers_every_domain(make_facteur):
    f = make_facteur(domains=("example.test", "example.org"))
    out = f.cli("dns").stdout
    z = parse_zone(out)
    for d in ("example.test", "example.org"):
        assert find(z, d, "MX") == [["10", "mail.example.test."]]
        assert "no key yet" in out and f"facteur dkim keygen {d}" in out
    # 127.0.0.1 in [listen] is not a public address: a placeholder.
    assert not find(z, "mail.example.test", "A")
    assert "IN A <IPv4 address of this server>" in out


def test_dns_usage_errors(host):
    assert host.cli("dns", "--ip", "not-an-ip", check=False).returncode == 2
    assert host.cli("dns", "bad..domain", check=False).returncode == 2


# --------------------------------------------------------------------------
# facteur doctor

def test_doctor_passes_a_correct_zone(host, zones):
    host.start()
    rep = doctor(host, zones, good_zone(host))
    assert rep.rc == 0, rep.out
    assert rep.level("FAIL") == [], rep.out
    for prefix in (f"a {HOST}", f"ptr {IP}", f"mx {DOMAIN}", f"spf {DOMAIN}",
                   f"dkim s1._domainkey.{DOMAIN}", f"dkim s2._domainkey.{DOMAIN}",
                   f"dmarc {DOMAIN}", "listen smtp", "listen submission ",
                   "listen submissions", "listen pop3s", "relay"):
        assert rep.line(prefix)[0].startswith("OK"), rep.out
    assert "forward-confirmed" in rep.line(f"ptr {IP}")[0]
    assert "(1 DNS lookup)" in rep.line(f"spf {DOMAIN}")[0]
    # The only warning: the self-signed certificate the server made.
    assert rep.checks("WARN") == ["tls"], rep.out
    assert "self-signed" in rep.line("tls")[0] and "certbot certonly" in rep.line("tls")[0]


def test_doctor_no_mx(host, zones):
    host.start()
    rep = doctor(host, zones, without(good_zone(host), DOMAIN, "MX"))
    assert rep.rc == 1
    # "v=spf1 mx" cannot authorize a host without an MX: the SPF line
    # says so and sends the reader to the MX record.
    assert rep.checks("FAIL") == ["mx", "spf"], rep.out
    [mx] = rep.line(f"mx {DOMAIN}")
    assert "no MX record" in mx and f"fix: publish {DOMAIN}. IN MX 10 {HOST}." in mx
    [spf] = rep.line(f"spf {DOMAIN}")
    assert f"fail for {IP}" in spf and "publish the MX record" in spf


def test_doctor_spf_without_this_host(host, zones):
    host.start()
    rep = doctor(host, zones, replace_txt(good_zone(host), DOMAIN, "v=spf1 ip4:192.0.2.1 -all"))
    assert rep.rc == 1
    assert rep.checks("FAIL") == ["spf"], rep.out
    [spf] = rep.level("FAIL")
    assert f"fail for {IP}" in spf and f'fix: add "mx" (or "ip4:{IP}")' in spf


def test_doctor_dkim_record_of_another_key(host, zones, tmp_path):
    host.start()
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    rec = f"v=DKIM1; k=ed25519; p={base64.b64encode(other).decode()}"
    rep = doctor(host, zones, replace_txt(good_zone(host), f"s2._domainkey.{DOMAIN}", rec))
    assert rep.rc == 1
    assert rep.checks("FAIL") == ["dkim"], rep.out
    [line] = rep.level("FAIL")
    assert f"s2._domainkey.{DOMAIN}: does not match the key in" in line
    assert "s2.ed25519.key" in line and f"fix: publish the record 'facteur dns {DOMAIN}'" in line
    assert rep.line(f"dkim s1._domainkey.{DOMAIN}")[0].startswith("OK")


def test_doctor_and_dns_with_a_smarthost(host, zones):
    """With [relay] host, mail leaves from the smarthost's addresses: the
    SPF check of this host's own proved nothing and said OK, and
    `facteur dns` did not say the record needs the relay's term."""
    host.extra["relay.host"] = "smtp.provider.test"
    host.write_config()
    out = host.cli("dns", DOMAIN, "--ip", IP).stdout
    assert "smarthost smtp.provider.test" in out and "include:" in out
    host.start()
    rep = doctor(host, zones, good_zone(host))
    [spf] = rep.line(f"spf {DOMAIN}")
    assert spf.startswith("WARN") and "smarthost smtp.provider.test" in spf, spf


def test_doctor_spf_for_addresses_known_only_from_dns(host, zones):
    """Without --ip, a public [listen] address or interface, the doctor
    takes this host's addresses from its own A records, which "mx"
    authorizes by construction: the SPF pass proves little, and says so."""
    host.start()
    z = zones(good_zone(host))
    host.extra["dns.resolver"] = z.resolver
    host.write_config()
    rep = Report(host.cli("doctor", DOMAIN, check=False))
    if "[listen]" in rep.out or "interface" in rep.line(f"a {HOST}")[0]:
        pytest.skip("this machine has a public address of its own")
    [spf] = rep.line(f"spf {DOMAIN}")
    assert spf.startswith("WARN") and "addresses DNS gives" in spf, spf


def test_doctor_dkim_record_that_forbids_sha256(host, zones):
    """h=sha1 on the right key: facteur signs with sha256 only, so every
    receiver fails the signature (RFC 6376 3.6.1); the doctor said OK."""
    host.start()
    zone = good_zone(host)
    name = f"s1._domainkey.{DOMAIN}"
    [rec] = find(zone, name, "TXT")
    rep = doctor(host, zones, replace_txt(zone, name, rec.replace("v=DKIM1;", "v=DKIM1; h=sha1;")))
    assert rep.rc == 1
    assert rep.checks("FAIL") == ["dkim"], rep.out
    [line] = rep.level("FAIL")
    assert f"{name}: h= does not allow sha256" in line, line


def test_doctor_no_ptr(host, zones):
    host.start()
    rep = doctor(host, zones, without(good_zone(host), "1.0.0.127.in-addr.arpa", "PTR"))
    assert rep.rc == 1
    assert rep.checks("FAIL") == ["ptr"], rep.out
    [line] = rep.level("FAIL")
    assert "no PTR record" in line
    assert f"fix: ask the provider of {IP} to set its reverse DNS (PTR) to {HOST}" in line


def test_doctor_ptr_to_another_name(host, zones):
    host.start()
    records = without(good_zone(host), "1.0.0.127.in-addr.arpa", "PTR")
    records.append(("1.0.0.127.in-addr.arpa", "PTR", ["localhost.example.test."]))
    rep = doctor(host, zones, records)
    assert rep.checks("FAIL") == ["ptr"], rep.out
    assert f"is localhost.example.test, not {HOST}" in rep.level("FAIL")[0]


def test_doctor_no_a_record(host, zones):
    host.start()
    rep = doctor(host, zones, without(good_zone(host), HOST, "A"))
    # No A: the host has no address, the MX host none either (SPF), and
    # the PTR is not forward-confirmed.
    assert rep.checks("FAIL") == ["a", "ptr", "spf"], rep.out
    assert f"publish {HOST}. IN A {IP}" in rep.line(f"a {HOST}")[0]
    assert "does not resolve back" in rep.line(f"ptr {IP}")[0]


@pytest.mark.parametrize("spf,why", [
    ("v=spf1 mx a:a1.example.test a:a2.example.test a:a3.example.test a:a4.example.test "
     "a:a5.example.test a:a6.example.test a:a7.example.test a:a8.example.test "
     "a:a9.example.test a:a10.example.test -all", "needs 11 DNS lookups, more than 10"),
    ("v=spf1 mx include:_spf.example.test -all", "needs 11 DNS lookups, more than 10"),
    ("v=spf1 mx -all moo", "does not parse"),
])
def test_doctor_spf_lookups_and_syntax(host, zones, spf, why):
    host.start()
    records = replace_txt(good_zone(host), DOMAIN, spf)
    records.append(("_spf.example.test", "TXT",
                    "v=spf1 " + " ".join(f"a:b{i}.example.test" for i in range(9)) + " -all"))
    rep = doctor(host, zones, records)
    assert rep.checks("FAIL") == ["spf"], rep.out
    assert why in rep.level("FAIL")[0]


def test_doctor_two_spf_records_and_no_dmarc(host, zones):
    host.start()
    records = without(good_zone(host), f"_dmarc.{DOMAIN}", "TXT")
    records.append((DOMAIN, "TXT", "v=spf1 a -all"))
    rep = doctor(host, zones, records)
    assert rep.checks("FAIL") == ["dmarc", "spf"], rep.out
    assert "2 SPF records" in rep.line(f"spf {DOMAIN}")[0]
    dmarc = rep.line(f"dmarc {DOMAIN}")[0]
    assert "no DMARC record" in dmarc
    assert f'fix: publish _dmarc.{DOMAIN}. IN TXT "v=DMARC1; p=quarantine;' in dmarc


def test_doctor_dmarc_p_none_is_a_warning(host, zones):
    host.start()
    rep = doctor(host, zones, replace_txt(good_zone(host), f"_dmarc.{DOMAIN}",
                                          "v=DMARC1; p=none"))
    assert rep.rc == 0, rep.out
    assert rep.line(f"dmarc {DOMAIN}")[0].startswith("WARN")


def test_doctor_listeners_down(host, zones):
    # The server is not started: every listener fails, exit status 1.
    rep = doctor(host, zones, good_zone(host))
    assert rep.rc == 1
    assert rep.checks("FAIL") == ["listen"], rep.out
    assert len(rep.line("listen")) == 4
    assert all("Connection refused" in l and "fix: start facteur" in l for l in rep.line("listen"))
    assert rep.line("relay")[0].startswith("WARN")


def test_doctor_finds_an_open_relay(host, zones, sinks):
    # A server that accepts anything on the smtp address: the self-test
    # must catch it.
    sink = sinks(IP, host.ports["smtp"])
    rep = doctor(host, zones, good_zone(host))
    [relay] = rep.line("relay")
    assert relay.startswith("FAIL") and "OPEN RELAY" in relay, rep.out
    assert rep.rc == 1
    assert sink.messages == []              # RCPT only, never DATA


def test_doctor_relay_refused_by_facteur(host, zones):
    host.start()
    rep = doctor(host, zones, good_zone(host))
    [relay] = rep.line("relay")
    assert relay.startswith("OK") and "refused for strangers: 5" in relay


# --------------------------------------------------------------------------
# certificates

def make_cert(tmp_path, name, names, days_from=-1, days_to=90, ca=True):
    """A certificate for names, signed by a test CA (or by itself)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = ec.generate_private_key(ec.SECP256R1()) if ca else key
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA" if ca else names[0])])
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
            .sign(issuer_key, hashes.SHA256()))
    cpath, kpath = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cpath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kpath.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    return cpath, kpath


@pytest.mark.parametrize("kw,level,text", [
    ({"names": [HOST]}, "OK", f"valid for {HOST} until"),
    ({"names": ["*.example.test"]}, "OK", f"valid for {HOST} until"),
    ({"names": ["other.example.test"]}, "FAIL", f"not valid for {HOST}"),
    ({"names": [HOST], "days_from": -100, "days_to": -1}, "FAIL", "expired on"),
    ({"names": [HOST], "days_to": 5}, "WARN", "expires on"),
    ({"names": [HOST], "ca": False}, "WARN", "self-signed"),
    ({"names": [HOST], "days_from": 3}, "FAIL", "not valid yet"),
])
def test_doctor_certificate(host, zones, tmp_path, kw, level, text):
    cert, key = make_cert(tmp_path, "leaf", **kw)
    host.extra.update({"tls.cert": str(cert), "tls.key": str(key)})
    rep = doctor(host, zones, good_zone(host))
    [line] = rep.line("tls")
    assert line.startswith(level) and text in line, rep.out


def test_doctor_certificate_key_mismatch(host, zones, tmp_path):
    cert, _ = make_cert(tmp_path, "a", [HOST])
    _, key = make_cert(tmp_path, "b", [HOST])
    host.extra.update({"tls.cert": str(cert), "tls.key": str(key)})
    rep = doctor(host, zones, good_zone(host))
    [line] = rep.line("tls")
    assert line.startswith("FAIL") and "is not its private key" in line


def test_doctor_usage(host):
    r = subprocess.run([BIN, "doctor", "--bogus", "-c", str(host.conf)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "usage: facteur doctor" in r.stderr
