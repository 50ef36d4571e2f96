"""Submission: TLS, authentication, relay and sender rules (issue 3).

Real TLS over loopback with Python's ssl, swaks and openssl s_client.
"""
import base64
import re
import hashlib
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import RawClient, TlsFinishedWithData, client_tls_context

PW = "password123"
MSG = b"From: alice@example.test\r\nTo: someone\r\nSubject: s\r\n\r\nhello\r\n"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def submit(f, kind="submission"):
    """An smtplib client on a submission listener, TLS up, not logged in."""
    if kind == "submissions":
        s = smtplib.SMTP_SSL(*f.addr(kind), context=client_tls_context(), timeout=10)
    else:
        s = smtplib.SMTP(*f.addr(kind), timeout=10)
        s.starttls(context=client_tls_context())
    s.ehlo("client.test")
    return s




def test_starttls_login_send_local_and_remote(submission):
    f = submission
    with submit(f) as s:
        assert s.has_extn("auth") and "PLAIN" in s.esmtp_features["auth"]
        s.login("alice@example.test", PW)
        assert s.sendmail("alice@example.test", ["bob@example.test", "friend@remote.test"], MSG) == {}
    [local] = f.wait_messages("bob@example.test", 1)
    data = local.read_bytes()
    assert b"with ESMTPSA id" in data
    assert b"(using TLSv1.3 with cipher TLS_" in data or b"(using TLSv1.2 with cipher" in data
    [qid] = f.queue_ids()
    text, msg = f.queue_entry(qid)
    assert "\nauth alice@example.test\n" in text
    assert re.search(r"\nrcpt pending \d+ \d+ friend@remote.test\n", text), text
    assert msg.startswith(b"Received: from client.test") and msg.endswith(MSG)


def test_implicit_tls_465(submission):
    with submit(submission, "submissions") as s:
        s.login("alice@example.test", PW)
        s.sendmail("alice@example.test", ["bob@example.test"], MSG)
    submission.wait_messages("bob@example.test", 1)


def test_no_auth_before_tls(submission):
    c = RawClient(*submission.addr("submission"))
    assert c.reply()[0] == 220
    code, text = c.cmd("EHLO client.test")
    assert code == 250 and "AUTH" not in text and "STARTTLS" in text
    code, text = c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0" + PW))
    assert code == 538 and text.startswith("5.7.11")
    assert c.cmd("MAIL FROM:<alice@example.test>")[0] == 530
    c.close()


def test_mail_requires_auth_on_submission(submission):
    with submit(submission) as s:
        code, text = s.mail("alice@example.test")
        assert code == 530 and text.startswith(b"5.7.0")


def test_wrong_password_and_unknown_user_same_reply_and_delay(submission):
    times = {}
    for user in ("alice@example.test", "nosuchuser@example.test"):
        with submit(submission) as s:
            start = time.monotonic()
            code, text = s.docmd("AUTH", "PLAIN " + b64(f"\0{user}\0wrongpassword"))
            times[user] = time.monotonic() - start
            assert code == 535 and text.startswith(b"5.7.8")
    assert min(times.values()) >= 0.2              # the configured failure_delay
    assert abs(times["alice@example.test"] - times["nosuchuser@example.test"]) < 0.25
    log = submission.log()
    assert "event=auth-fail ip=127.0.0.1 user=alice@example.test" in log
    assert "event=auth-fail ip=127.0.0.1 user=nosuchuser@example.test" in log


def test_auth_login_and_plain_exchanges(submission):
    with submit(submission) as s:
        assert s.docmd("AUTH", "LOGIN") == (334, b"VXNlcm5hbWU6")
        assert s.docmd(b64("alice@example.test")) == (334, b"UGFzc3dvcmQ6")
        assert s.docmd(b64(PW))[0] == 235
        assert s.docmd("AUTH", "PLAIN")[0] == 503          # already authenticated
    with submit(submission) as s:
        assert s.docmd("AUTH", "PLAIN") == (334, b"")
        assert s.docmd(b64("\0bob@example.test\0" + PW))[0] == 235
    with submit(submission) as s:
        assert s.docmd("AUTH", "LOGIN " + b64("alice@example.test"))[0] == 334
        assert s.docmd(b64(PW))[0] == 235


def test_auth_cancel_and_bad_input(submission):
    with submit(submission) as s:
        assert s.docmd("AUTH", "PLAIN")[0] == 334
        code, text = s.docmd("*")
        assert code == 501
        code, text = s.docmd("AUTH", "PLAIN !!!notbase64")
        assert code == 501 and text.startswith(b"5.5.2")
        # authzid must be the user itself: nobody acts as someone else.
        code, _ = s.docmd("AUTH", "PLAIN " + b64("bob@example.test\0alice@example.test\0" + PW))
        assert code == 501
        assert s.docmd("AUTH", "CRAM-MD5")[0] == 504
        assert s.docmd("AUTH", "PLAIN " + b64("\0alice@example.test\0" + PW))[0] == 235


def test_auth_response_too_long_ends_the_exchange(submission):
    """RFC 4954 4: a SASL response past the limit gets 500 5.5.6 and ends
    the exchange; the next line is a command again, not a response."""
    with submit(submission) as s:
        assert s.docmd("AUTH", "LOGIN")[0] == 334
        code, text = s.docmd("A" * 13000)
        assert code == 500 and text.startswith(b"5.5.6"), text
        assert s.docmd("NOOP")[0] == 250
        assert s.docmd("AUTH", "PLAIN " + b64("\0alice@example.test\0" + PW))[0] == 235


def test_auth_not_offered_on_mx(submission):
    s = smtplib.SMTP(*submission.addr("smtp"), timeout=10)
    s.starttls(context=client_tls_context())
    s.ehlo("client.test")
    assert not s.has_extn("auth")
    code, _ = s.docmd("AUTH", "PLAIN " + b64("\0alice@example.test\0" + PW))
    assert code == 502
    s.quit()


def test_auth_on_mx_when_configured(make_facteur):
    f = make_facteur(extra={"auth.mx": "yes", "auth.failure_delay": "100ms"})
    f.add_user("alice@example.test")
    f.start()
    s = smtplib.SMTP(*f.addr(), timeout=10)
    s.starttls(context=client_tls_context())
    s.ehlo("c.test")
    s.login("alice@example.test", PW)
    assert s.sendmail("alice@example.test", ["x@remote.test"], MSG) == {}
    s.quit()


def test_plaintext_localhost_option(make_facteur):
    f = make_facteur(listen={"submission": "127.0.0.1"},
                     extra={"auth.plaintext_localhost": "yes"})
    f.add_user("alice@example.test")
    f.start()
    with smtplib.SMTP(*f.addr("submission"), timeout=10) as s:
        s.ehlo("c.test")
        assert s.has_extn("auth")
        s.login("alice@example.test", PW)


@pytest.mark.parametrize("sender,ok", [
    ("alice@example.test", True),
    ("ALICE@Example.Test", True),
    ("alice+lists@example.test", True),
    ("sales@example.test", True),          # an alias of alice
    ("bob@example.test", False),           # a colleague
    ("anything@example.org", False),       # a catch-all gives nobody every address
    ("alice@remote.test", False),
    ("", False),                           # null sender: bounces only
])
def test_envelope_sender_rules(submission, sender, ok):
    with submit(submission) as s:
        s.login("alice@example.test", PW)
        code, text = s.mail(sender)
        if ok:
            assert code == 250, text
        else:
            assert code == 553 and text.startswith(b"5.7.1"), (code, text)


@pytest.mark.parametrize("header,ok", [
    (b"From: Alice <alice@example.test>", True),
    (b"From: \"Sales\" <sales@example.test>", True),
    (b"From: alice@example.test (Alice)", True),
    (b"From: Bob <bob@example.test>", False),
    (b"From: alice@example.test, bob@example.test", False),
    (b"From: <boss@remote.test>", False),
    (b"X-No-From: x", False),
    # A second From: past the 256 KB read: the header section is refused.
    pytest.param(b"From: Alice <alice@example.test>\r\nX-Pad: start\r\n" +
                 (b" " + b"x" * 900 + b"\r\n") * 300 + b"From: Bob <bob@example.test>",
                 False, id="second-From-past-256KB"),
    # A body past 256 KB is not a header section past it.
    pytest.param(b"From: Alice <alice@example.test>\r\n\r\n" +
                 (b"y" * 900 + b"\r\n") * 300 + b"end", True, id="body-past-256KB"),
])
def test_header_from_rules(submission, header, ok):
    with submit(submission) as s:
        s.login("alice@example.test", PW)
        msg = header + b"\r\nSubject: h\r\n\r\nbody\r\n"
        if ok:
            assert s.sendmail("alice@example.test", ["bob@example.test"], msg) == {}
        else:
            with pytest.raises(smtplib.SMTPDataError) as e:
                s.sendmail("alice@example.test", ["bob@example.test"], msg)
            assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1")


def test_header_from_check_can_be_disabled(make_facteur):
    f = make_facteur(listen={"submission": "127.0.0.1"}, extra={"submission.check_from": "no"})
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    f.start()
    with submit(f) as s:
        s.login("alice@example.test", PW)
        s.sendmail("alice@example.test", ["bob@example.test"], b"From: bob@example.test\r\n\r\nx\r\n")
    f.wait_messages("bob@example.test", 1)


def test_starttls_injection_is_discarded(submission):
    """STARTTLS\\r\\nRSET\\r\\n in one write: RSET must never be answered."""
    c = RawClient(*submission.addr("smtp"))
    c.reply()
    c.cmd("EHLO client.test")
    c.send("STARTTLS\r\nRSET\r\n")
    code, _ = c.reply()
    assert code == 220
    assert c.buf == b""
    tls = client_tls_context().wrap_socket(c.sock, server_hostname="mail.example.test")
    tls.settimeout(5)
    tls.sendall(b"EHLO client.test\r\n")
    data = b""
    while not data.endswith(b"CHUNKING\r\n"):
        data += tls.recv(4096)
    # The first reply inside TLS is EHLO's, not a stale 250 for RSET.
    assert data.startswith(b"250-mail.example.test\r\n")
    tls.sendall(b"QUIT\r\n")
    assert tls.recv(4096).startswith(b"221")
    tls.close()
    assert "event=starttls-injection" in submission.log()


def test_ehlo_in_the_same_write_as_the_tls_finished_offers_auth(submission):
    """The client's Finished and EHLO arrive in one read: the EHLO must be
    answered as one inside TLS (AUTH offered, STARTTLS not)."""
    c = RawClient(*submission.addr("submission"))
    c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("STARTTLS")[0] == 220
    t = TlsFinishedWithData(c.sock, b"EHLO client.test\r\n")
    text = t.read_until(b"CHUNKING\r\n").decode()
    assert "250-AUTH PLAIN LOGIN" in text and "STARTTLS" not in text
    t.send(b"AUTH PLAIN " + b64("\0alice@example.test\0" + PW).encode() + b"\r\n")
    assert t.read_until(b"\r\n").startswith(b"235")
    c.close()


def test_starttls_resets_session(submission):
    c = RawClient(*submission.addr("smtp"))
    c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<x@remote.test>")[0] == 250
    assert c.cmd("STARTTLS")[0] == 220
    tls = client_tls_context().wrap_socket(c.sock, server_hostname="mail.example.test")
    tls.settimeout(5)
    tls.sendall(b"MAIL FROM:<x@remote.test>\r\n")
    assert tls.recv(4096).startswith(b"503")      # EHLO again first
    tls.close()


def test_mx_starttls_received_header(submission):
    s = smtplib.SMTP(*submission.addr("smtp"), timeout=10)
    s.starttls(context=client_tls_context())
    s.sendmail("x@remote.test", ["bob@example.test"], b"Subject: tls\r\n\r\nx\r\n")
    s.quit()
    [p] = submission.wait_messages("bob@example.test", 1)
    assert b"with ESMTPS id" in p.read_bytes()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_versions(submission):
    host, port = submission.addr("submissions")
    for version, ok in ((ssl.TLSVersion.TLSv1_2, True), (ssl.TLSVersion.TLSv1_3, True),
                        (ssl.TLSVersion.TLSv1_1, False)):
        ctx = client_tls_context()
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = version
        if not ok:
            try:
                ctx.minimum_version = version
            except ValueError:
                continue
        try:
            with socket.create_connection((host, port), timeout=5) as raw:
                with ctx.wrap_socket(raw) as t:
                    assert t.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                           ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
                    assert t.recv(100).startswith(b"220")
            assert ok
        except ssl.SSLError:
            assert not ok
    # A failed handshake costs nothing else: the server still serves.
    with submit(submission, "submissions") as s:
        s.login("alice@example.test", PW)


def test_swaks_starttls_and_implicit_tls(submission):
    if not shutil.which("swaks"):
        pytest.skip("swaks not installed")
    f = submission
    for kind, flag in (("submission", "--tls"), ("submissions", "--tlsc")):
        host, port = f.addr(kind)
        r = subprocess.run(["swaks", "--server", f"{host}:{port}", flag,
                            "--auth", "PLAIN", "--auth-user", "alice@example.test",
                            "--auth-password", PW, "--from", "alice@example.test",
                            "--to", "bob@example.test", "--h-From", "alice@example.test",
                            "--helo", "swaks.test"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "235 2.7.0" in r.stdout and "queued as" in r.stdout
    f.wait_messages("bob@example.test", 2)


def test_openssl_s_client_starttls(submission):
    host, port = submission.addr("submission")
    p = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-connect", f"{host}:{port}",
                          "-servername", "mail.example.test", "-quiet", "-crlf"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # One command at a time: the server refuses commands sent before its reply.
    time.sleep(1)
    p.stdin.write(b"EHLO s-client.test\n")
    p.stdin.flush()
    time.sleep(0.5)
    p.stdin.write(b"QUIT\n")
    p.stdin.flush()
    out = p.communicate(timeout=30)[0].decode(errors="replace")
    assert "250-AUTH PLAIN LOGIN" in out and "221 2.0.0" in out


def cert_fingerprint(host, port):
    with socket.create_connection((host, port), timeout=5) as raw:
        with client_tls_context().wrap_socket(raw) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def make_cert(path_key, path_crt, cn):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(path_key), "-out", str(path_crt), "-days", "2",
                    "-subj", f"/CN={cn}"], check=True, capture_output=True)


def test_certificate_reload_on_sighup(make_facteur, tmp_path):
    key, crt = tmp_path / "key.pem", tmp_path / "fullchain.pem"
    make_cert(key, crt, "first.example.test")
    f = make_facteur(listen={"submissions": "127.0.0.1"},
                     extra={"tls.cert": str(crt), "tls.key": str(key)})
    f.add_user("alice@example.test")
    f.start()
    before = cert_fingerprint(*f.addr("submissions"))
    old = submit(f, "submissions")          # a session that lives across the reload
    make_cert(key, crt, "second.example.test")
    f.reload()
    after = cert_fingerprint(*f.addr("submissions"))
    assert before != after
    old.login("alice@example.test", PW)       # the old session is undisturbed
    old.quit()


def test_self_signed_generated_and_warned(make_facteur):
    """No [tls] cert/key and no pair in tls/: facteur makes a self-signed
    one at startup, serves it, and warns (the other tests get a pair made
    once for the run: conftest.copy_shared_cert())."""
    f = make_facteur(listen={"smtp": "127.0.0.1", "submissions": "127.0.0.1"})
    f.shared_cert = False
    f.start()
    assert (f.data_dir / "tls" / "selfsigned.crt").exists()
    assert "event=tls-selfsigned" in f.log()
    assert cert_fingerprint(*f.addr("submissions"))


def test_bad_certificate_config_refused(make_facteur, tmp_path):
    f = make_facteur(extra={"tls.cert": str(tmp_path / "nope.pem"), "tls.key": str(tmp_path / "nope.key")})
    f.start(wait=False)
    assert f.proc.wait(10) == 1
    f.proc = None
    f.logf.close()
    assert "event=fatal" in f.log() and "nope.pem" in f.log()


# --------------------------------------------------------------------------
# timeouts under TLS: the limits of [limits] apply to the TLS session, not
# to the socket below it, which kept those it had when TLS started

def tls_timeouts_server(make_facteur, **limits):
    f = make_facteur(listen={"smtp": "127.0.0.1", "submissions": "127.0.0.1"},
                     extra={f"limits.{k}": v for k, v in limits.items()})
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    return f.start()


def tls_data(f, kind):
    """An smtplib client inside TLS (STARTTLS on the MX listener, or
    implicit TLS), the transaction open: DATA answered 354."""
    if kind == "submissions":
        s = smtplib.SMTP_SSL(*f.addr(kind), context=client_tls_context(), timeout=20)
        s.login("alice@example.test", PW)
    else:
        s = smtplib.SMTP(*f.addr(kind), timeout=20)
        s.starttls(context=client_tls_context())
    s.ehlo("client.test")
    assert s.mail("alice@example.test")[0] == 250
    assert s.rcpt("bob@example.test")[0] == 250
    code, text = s.docmd("DATA")
    assert code == 354, text
    return s


@pytest.mark.parametrize("kind", ["smtp", "submissions"])
def test_tls_pause_in_data_gets_the_data_timeout(make_facteur, kind):
    """A pause inside DATA longer than command_timeout but shorter than
    data_timeout. The socket under the TLS layer kept the command timeout
    it had when TLS started and cut the session at it."""
    f = tls_timeouts_server(make_facteur, command_timeout="1s", data_timeout="6s")
    s = tls_data(f, kind)
    s.send(b"From: alice@example.test\r\nSubject: paused\r\n\r\nbefore the pause\r\n")
    time.sleep(2.5)
    s.send(b"after the pause\r\n.\r\n")
    code, text = s.getreply()
    assert code == 250, text
    s.quit()
    [p] = f.wait_messages("bob@example.test", 1)
    assert p.read_bytes().endswith(b"before the pause\nafter the pause\n")


def test_tls_slow_steady_body_outlasts_the_data_timeout(make_facteur):
    """A body that keeps coming, in pieces well within data_timeout, for
    longer than data_timeout in all: the timeout is idle time. The TLS
    layer's write timer, armed by the 354 and never disarmed once that
    reply had left, used to cut it after data_timeout."""
    f = tls_timeouts_server(make_facteur, command_timeout="2s", data_timeout="2s")
    s = tls_data(f, "smtp")
    s.send(b"From: alice@example.test\r\nSubject: slow\r\n\r\n")
    for i in range(10):
        time.sleep(0.5)
        s.send(b"line %d\r\n" % i)
    s.send(b".\r\n")
    code, text = s.getreply()
    assert code == 250, text
    s.quit()
    f.wait_messages("bob@example.test", 1)


@pytest.mark.parametrize("kind", ["smtp", "submissions"])
def test_tls_handshake_never_begun_ends_after_one_timeout(make_facteur, kind):
    """A client that sends nothing once TLS is due: after 220 to STARTTLS,
    or from the first byte on the implicit-TLS port. Its session ended at
    command_timeout, but the 421 went into a TLS layer without a session
    to send it in, and the connection (and its slot) stayed until a
    second timeout flushed nothing."""
    f = tls_timeouts_server(make_facteur, command_timeout="2s")
    c = RawClient(*f.addr(kind))
    if kind == "smtp":
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.test")[0] == 250
        assert c.cmd("STARTTLS")[0] == 220
    start = time.time()
    assert c.closed(timeout=10)
    elapsed = time.time() - start
    c.close()
    assert 1.5 <= elapsed < 3.5, elapsed
    assert c.buf == b""                 # nothing in clear after the 220
    f.wait_log("event=timeout")
    # Nothing else was held up: the listener still serves.
    with submit(f, "submissions") as s:
        s.login("alice@example.test", PW)
