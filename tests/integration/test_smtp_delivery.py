"""Inbound SMTP to Maildir: the happy paths, with exact content checks."""
import smtplib
import socket
import threading
import time

import pytest

from conftest import START_TIMEOUT, RawClient


def body_of(path):
    """The stored message without the two delivery headers we add."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    assert lines[0].startswith(b"Return-Path: <")
    assert lines[1].startswith(b"Delivered-To: ")
    return lines, data


def test_delivery_exact_content(server):
    msg = (b"From: Sender <s@remote.test>\r\n"
           b"To: alice@example.test\r\n"
           b"Subject: exact\r\n"
           b"\r\n"
           b"line one\r\n"
           b".a line starting with a dot\r\n"
           b"..two dots\r\n"
           b".\r\n"[:0] +               # (no lone dot: it would end DATA)
           b"\xc3\xa9t\xc3\xa9 \xe2\x82\xac 8-bit\r\n"
           b"last line\r\n")
    with smtplib.SMTP(*server.addr()) as s:
        s.ehlo("client.remote.test")
        refused = s.sendmail("s@remote.test", ["alice@example.test"], msg,
                             mail_options=["BODY=8BITMIME"])
        assert refused == {}
    [path] = server.wait_messages("alice@example.test", 1)
    assert path.parent.name == "new"
    lines, data = body_of(path)
    assert lines[0] == b"Return-Path: <s@remote.test>"
    assert lines[1] == b"Delivered-To: alice@example.test"
    # Then our Authentication-Results: and Received:, folded with tabs.
    assert lines[2].startswith(b"Authentication-Results: mail.example.test;")
    i = 3
    while lines[i].startswith(b"\t"):
        i += 1
    assert lines[i].startswith(b"Received: from client.remote.test ([127.0.0.1])")
    i += 1
    while lines[i].startswith(b"\t"):
        i += 1
    stored = b"\n".join(lines[i:])
    assert stored == msg.replace(b"\r\n", b"\n")
    # Maildir name carries the sizes (S= on disk, W= with CRLF).
    name = path.name
    assert f",S={len(data)}," in name
    vsize = len(data) + data.count(b"\n")
    assert name.endswith(f",W={vsize}")


def test_alias_and_catchall(server):
    with smtplib.SMTP(*server.addr()) as s:
        s.sendmail("s@remote.test", ["team@example.test"], b"Subject: team\r\n\r\nhi\r\n")
        s.sendmail("s@remote.test", ["anything@example.org"], b"Subject: catch\r\n\r\nhi\r\n")
        s.sendmail("s@remote.test", ["alice+news@example.test"], b"Subject: sub\r\n\r\nhi\r\n")
        s.sendmail("s@remote.test", ["<postmaster>"], b"Subject: pm\r\n\r\nhi\r\n")
    alice = server.wait_messages("alice@example.test", 3)
    bob = server.wait_messages("bob@example.test", 2)
    subjects = lambda paths: sorted(p.read_bytes().split(b"Subject: ")[1].split(b"\n")[0] for p in paths)
    assert subjects(alice) == [b"pm", b"sub", b"team"]
    assert subjects(bob) == [b"catch", b"team"]


def test_duplicate_targets_deliver_once(server):
    with smtplib.SMTP(*server.addr()) as s:
        s.sendmail("s@remote.test", ["team@example.test", "alice@example.test", "ALICE@EXAMPLE.TEST"],
                   b"Subject: once\r\n\r\nhi\r\n")
    assert len(server.wait_messages("alice@example.test", 1)) == 1
    time.sleep(0.2)
    assert len(server.messages("alice@example.test")) == 1


def test_unknown_user_refused(server):
    with smtplib.SMTP(*server.addr()) as s:
        s.ehlo()
        s.mail("s@remote.test")
        code, text = s.rcpt("nobody@example.test")
        assert code == 550 and text.startswith(b"5.1.1")


def test_relay_denied(server):
    with smtplib.SMTP(*server.addr()) as s:
        s.ehlo()
        s.mail("s@remote.test")
        code, text = s.rcpt("victim@gmail.test")
        assert code == 554 and text.startswith(b"5.7.1")
    assert "reason=relay-denied" in server.log()


def test_ehlo_extensions(server):
    with smtplib.SMTP(*server.addr()) as s:
        code, _ = s.ehlo("me.test")
        assert code == 250
        for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8", "chunking"):
            assert s.has_extn(ext), ext
        assert s.esmtp_features["size"] == str(1024 * 1024)


def test_pipelining_in_one_write(raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send("MAIL FROM:<s@remote.test>\r\n"
           "RCPT TO:<alice@example.test>\r\n"
           "RCPT TO:<nobody@example.test>\r\n"
           "RCPT TO:<bob@example.test>\r\n"
           "DATA\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.reply()[0] == 550
    assert c.reply()[0] == 250
    assert c.reply()[0] == 354
    c.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    assert c.reply()[0] == 221


def test_bdat(server, raw):
    c = raw()
    c.cmd("EHLO client.test")
    body1 = b"Subject: chunks\r\n\r\n"
    body2 = b"line with\r\n.leading dot kept as is\r\n"
    c.send(b"MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
           + b"BDAT %d\r\n" % len(body1) + body1
           + b"BDAT %d LAST\r\n" % len(body2) + body2)
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    [path] = server.wait_messages("alice@example.test", 1)
    assert path.read_bytes().endswith((body1 + body2).replace(b"\r\n", b"\n"))


def test_bdat_zero_last(server, raw):
    c = raw()
    c.cmd("EHLO client.test")
    c.send(b"MAIL FROM:<>\r\nRCPT TO:<bob@example.test>\r\nBDAT 11\r\nSubject: \r\n")
    assert c.reply()[0] == 250 and c.reply()[0] == 250 and c.reply()[0] == 250
    assert c.cmd("BDAT 0 LAST")[0] == 250
    [path] = server.wait_messages("bob@example.test", 1)
    assert path.read_bytes().startswith(b"Return-Path: <>\n")


def test_slow_clients_do_not_block_others(server):
    """Two clients that stall mid-command and mid-DATA; a third is served."""
    slow1 = RawClient(*server.addr())
    slow1.reply()
    slow1.send("EHLO slo")          # no CRLF: a half command
    slow2 = RawClient(*server.addr())
    slow2.reply()
    slow2.cmd("EHLO slow2")
    slow2.cmd("MAIL FROM:<a@remote.test>")
    slow2.cmd("RCPT TO:<alice@example.test>")
    assert slow2.cmd("DATA")[0] == 354
    slow2.send("Subject: half a message\r\n")
    start = time.time()
    with smtplib.SMTP(*server.addr(), timeout=5) as s:
        s.sendmail("s@remote.test", ["bob@example.test"], b"Subject: fast\r\n\r\nhi\r\n")
    assert time.time() - start < 2
    server.wait_messages("bob@example.test", 1)
    # The slow ones still work afterwards.
    slow2.send(".\r\n")
    assert slow2.reply()[0] == 250
    slow1.send("w\r\n")
    assert slow1.reply()[0] == 250
    slow1.close()
    slow2.close()


def test_many_messages_one_session(server):
    with smtplib.SMTP(*server.addr()) as s:
        for i in range(50):
            s.sendmail("s@remote.test", ["alice@example.test"], f"Subject: {i}\r\n\r\n{i}\r\n".encode())
    assert len(server.wait_messages("alice@example.test", 50)) == 50


def test_concurrent_clients(server):
    errors = []

    def send(n):
        try:
            with smtplib.SMTP(*server.addr(), timeout=10) as s:
                for i in range(10):
                    s.sendmail("s@remote.test", ["bob@example.test"], f"Subject: {n}-{i}\r\n\r\nx\r\n".encode())
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(server.wait_messages("bob@example.test", 150)) == 150
    m = server.log()
    assert "event=accepted" in m


def test_ipv6_listener(make_facteur):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    f = make_facteur(listen={"smtp": "::1"})
    f.add_user("alice@example.test")
    f.start()
    with smtplib.SMTP("::1", f.port) as s:
        s.sendmail("s@remote.test", ["alice@example.test"], b"Subject: v6\r\n\r\nhi\r\n")
    [path] = f.wait_messages("alice@example.test", 1)
    assert b"[IPv6:::1]" in path.read_bytes()


def test_sighup_reloads_users(server):
    with smtplib.SMTP(*server.addr()) as s:
        s.ehlo()
        s.mail("s@remote.test")
        assert s.rcpt("carol@example.test")[0] == 550
    server.add_user("carol@example.test")     # the CLI signals the server
    server.wait_log("event=reload")
    with smtplib.SMTP(*server.addr()) as s:
        s.sendmail("s@remote.test", ["carol@example.test"], b"Subject: hi\r\n\r\nhi\r\n")
    server.wait_messages("carol@example.test", 1)


def test_signals_during_startup_wait_for_their_handlers(make_facteur):
    """A SIGHUP sent while the server is still starting (a certificate
    renewal hook, a log rotation) is handled once it runs, not fatal; a
    SIGTERM then stops it gracefully."""
    f = make_facteur()
    f.add_user("alice@example.test")
    f.start(wait=False)
    end = time.time() + START_TIMEOUT
    while "event=listen" not in f.log() and time.time() < end:
        time.sleep(0.001)
    f.proc.send_signal(1)
    f.wait_log("event=reload", timeout=START_TIMEOUT)
    assert f.proc.poll() is None
    with smtplib.SMTP(*f.addr()) as s:
        s.sendmail("s@remote.test", ["alice@example.test"], b"Subject: hi\r\n\r\nhi\r\n")
    f.wait_messages("alice@example.test", 1)


def test_sigterm_is_graceful(server):
    c = RawClient(*server.addr())
    c.reply()
    c.cmd("EHLO x.test")
    server.proc.send_signal(15)
    code, text = c.reply()
    assert code == 421
    assert server.proc.wait(10) == 0
    assert "event=stop " in server.log()
