"""Outbound delivery (issue 4): the queue, MX routing, retries, bounces.

dnsmasq on loopback serves the MX and A/AAAA records; receivers (aiosmtpd
sinks, or a second facteur) listen on other loopback addresses, all on
the same port, which the sender uses through [delivery] port.
"""
import email
import email.policy
import os
import re
import shutil
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import RawClient, free_port_on, wait_port

PW = "password123"


@pytest.fixture
def world(make_facteur, dns_server, tmp_path):
    """A sender facteur (submission + smtp) with users alice and bob, a DNS
    server and a port shared by the receivers."""
    class World:
        pass

    w = World()
    w.port = free_port_on("127.0.0.2", "127.0.0.3", "127.0.0.4", "::1")

    def setup(records=None, extra=None, start=True):
        records = records or {}
        records.setdefault("mx", []).extend([
            ("remote.test", "mx1.remote.test", 10),
            ("backup.test", "mx1.backup.test", 10),
            ("backup.test", "mx2.backup.test", 20),
            ("nullmx.test", ".", 0),
            ("dual.test", "mx.dual.test", 10),
        ])
        records.setdefault("a", []).extend([
            ("mx1.remote.test", "127.0.0.2"),
            ("mx1.backup.test", "127.0.0.2"),
            ("mx2.backup.test", "127.0.0.3"),
            ("mx.dual.test", "127.0.0.2,::1"),
            ("implicit.test", "127.0.0.3"),
            ("relay.test", "127.0.0.4"),
        ])
        w.dns = dns_server(**records)
        conf = {"dns.resolver": w.dns.resolver, "delivery.port": str(w.port),
                "queue.retry_min": "1s", "queue.retry_max": "2s",
                "auth.failure_delay": "100ms"}
        conf.update(extra or {})
        w.f = make_facteur(listen={"smtp": "127.0.0.1", "submission": "127.0.0.1"},
                           extra=conf)
        w.f.add_user("alice@example.test")
        w.f.add_user("bob@example.test")
        w.f.set_aliases("fwd@example.test: someone@remote.test\n")
        if start:
            w.f.start()
        return w

    w.setup = setup
    return w


def submit(f, rcpts, body=None, sender="alice@example.test", subject="out"):
    body = body or (f"From: {sender}\r\nTo: x\r\nSubject: {subject}\r\n\r\n"
                    "first line\r\n.leading dot\r\n\xe9t\xe9 8-bit\r\nlast\r\n").encode("latin-1")
    with smtplib.SMTP(*f.addr("submission"), timeout=10) as s:
        s.starttls(context=__import__("conftest").client_tls_context())
        s.login(sender, PW)
        s.sendmail(sender, rcpts, body, mail_options=["BODY=8BITMIME"])
    return body


def strip_trace(content):
    """The message as sent, without the Received: header we prepend."""
    lines = content.split(b"\r\n")
    assert lines[0].startswith(b"Received: from ")
    i = 1
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def wait_queue_empty(f, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if not f.queue_ids():
            return
        time.sleep(0.05)
    raise AssertionError(f"queue not empty: {f.queue_ids()}\n{f.log()[-3000:]}")


def wait_until(check, what, timeout=10):
    end = time.time() + timeout
    while not check():
        if time.time() > end:
            raise AssertionError(what)
        time.sleep(0.05)


def dsn_of(path):
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == \
        ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    return msg, parts


def test_authenticated_mail_arrives_intact(world, sinks):
    w = world.setup()
    sink = sinks("127.0.0.2", w.port)
    body = submit(w.f, ["bob@remote.test", "carol@remote.test", "dan@remote.test"])
    [(mail_from, rcpts, content, options)] = sink.wait(1)
    assert mail_from == "alice@example.test"
    assert sorted(rcpts) == ["bob@remote.test", "carol@remote.test", "dan@remote.test"]
    assert "BODY=8BITMIME" in options
    assert strip_trace(content) == body           # dot-stuffing undone, 8-bit kept
    wait_queue_empty(w.f)
    assert "event=sent" in w.f.log()


def test_mx_preference_and_fallback(world, sinks):
    w = world.setup()
    second = sinks("127.0.0.3", w.port)            # mx1 (127.0.0.2) is down
    submit(w.f, ["x@backup.test"])
    second.wait(1)
    wait_queue_empty(w.f)
    first = sinks("127.0.0.2", w.port)             # now mx1 is up: it is preferred
    submit(w.f, ["y@backup.test"])
    first.wait(1)
    assert len(second.messages) == 1


def test_implicit_mx(world, sinks):
    w = world.setup()
    sink = sinks("127.0.0.3", w.port)
    submit(w.f, ["x@implicit.test"])
    sink.wait(1)


def test_ipv6_tried_with_ipv4(world, sinks):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    w = world.setup()
    sink = sinks("::1", w.port)                    # 127.0.0.2 has nobody
    submit(w.f, ["x@dual.test"])
    sink.wait(1)
    assert "ip=::1" in w.f.log() or "[::1]" in w.f.log()


def test_retry_after_4xx(world, sinks):
    w = world.setup()
    seen = []

    def greylist(addr):
        seen.append(addr)
        return "451 4.7.1 greylisted, try again later" if len(seen) == 1 else None

    sink = sinks("127.0.0.2", w.port, rcpt_reply=greylist)
    submit(w.f, ["bob@remote.test"])
    w.f.wait_log("event=deferred .*greylisted")
    sink.wait(1, timeout=20)
    assert len(seen) == 2
    wait_queue_empty(w.f)


def test_retry_after_receiver_down(world, sinks):
    w = world.setup()
    submit(w.f, ["bob@remote.test"])
    w.f.wait_log("event=deferred")
    [qid] = w.f.queue_ids()
    # The deferral is logged before its state is written to the entry.
    end = time.time() + 10
    while "refused" not in (r := w.f.cli("queue", "list")).stdout and time.time() < end:
        time.sleep(0.05)
    assert qid in r.stdout and "pending" in r.stdout and "refused" in r.stdout
    sink = sinks("127.0.0.2", w.port)
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)


def test_bounce_after_5xx(world, sinks):
    w = world.setup()
    sinks("127.0.0.2", w.port,
          rcpt_reply=lambda a: "550 5.1.1 no such user here" if a.startswith("nobody") else None)
    submit(w.f, ["nobody@remote.test", "bob@remote.test"], subject="will bounce")
    [dsn] = w.f.wait_messages("alice@example.test", 1)
    data = dsn.read_bytes()
    assert data.startswith(b"Return-Path: <>\n")
    msg, (text, status, headers) = dsn_of(dsn)
    assert "MAILER-DAEMON@mail.example.test" in msg["From"]
    assert "nobody@remote.test" in text.get_content()
    st = status.as_string()
    assert "Final-Recipient: rfc822; nobody@remote.test" in st
    assert "Status: 5.1.1" in st and "Action: failed" in st
    assert "bob@remote.test" not in st                # delivered: not reported
    assert "Subject: will bounce" in headers.as_string()
    wait_queue_empty(w.f)


def test_null_mx_fails_at_once(world):
    w = world.setup()
    submit(w.f, ["x@nullmx.test"])
    [dsn] = w.f.wait_messages("alice@example.test", 1)
    _, (text, status, _) = dsn_of(dsn)
    assert "null MX" in text.get_content()
    assert "Status: 5.1.10" in status.as_string()


def test_nxdomain_fails_at_once(world):
    w = world.setup(records={"nxdomain": ["gone.test"]})
    submit(w.f, ["x@gone.test"])
    [dsn] = w.f.wait_messages("alice@example.test", 1)
    assert b"does not exist" in dsn.read_bytes()


def test_expiry_bounces(world):
    w = world.setup(extra={"queue.max_age": "3s"})
    submit(w.f, ["bob@remote.test"])                  # nobody listens on mx1
    [dsn] = w.f.wait_messages("alice@example.test", 1, timeout=20)
    _, (text, status, _) = dsn_of(dsn)
    assert "Status: 4.4.7" in status.as_string()
    assert "expired" in w.f.log()


def wait_warned(f, qid, timeout=10):
    """The envelope records the warning a moment after the report itself
    is stored: wait for that save."""
    end = time.time() + timeout
    while time.time() < end:
        if "warned" in f.queue_entry(qid)[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"no 'warned' in {qid}:\n{f.queue_entry(qid)[0]}")


def test_a_delay_warning_that_cannot_be_stored_does_not_stop_delivery(world, sinks):
    """A warning that cannot be stored (alice's mailbox is a file here) is
    tried again a retry later. It was tried again at every tick, and the
    entry, never scheduled meanwhile, was neither delivered nor expired."""
    w = world.setup(extra={"queue.delay_warning": "1s", "queue.retry_min": "2s",
                           "queue.retry_max": "2s"})
    md = w.f.maildir("alice@example.test")
    if md.exists():
        shutil.rmtree(md)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text("not a Maildir\n")
    submit(w.f, ["bob@remote.test"], subject="warning fails")  # nobody listens
    w.f.wait_log("event=bounce-failed")
    sink = sinks("127.0.0.2", w.port)
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)
    assert w.f.log().count("event=bounce-failed") <= 3, w.f.log()[-3000:]


def test_delay_warning_once_then_delivery(world, sinks):
    """[queue] delay_warning: a message still pending after it gets one
    "delayed" report (RFC 3464), stays queued, and is delivered later."""
    w = world.setup(extra={"queue.delay_warning": "2s"})
    submit(w.f, ["bob@remote.test"], subject="slow one")   # nobody listens on mx1
    [dsn] = w.f.wait_messages("alice@example.test", 1, timeout=20)
    msg, (text, status, headers) = dsn_of(dsn)
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert "you do not need to send it again" in text.get_content()
    st = status.as_string()
    assert "Final-Recipient: rfc822; bob@remote.test" in st
    assert "Action: delayed" in st and "Status: 4." in st
    assert "Will-Retry-Until: " in st
    assert "Subject: slow one" in headers.as_string()
    [qid] = w.f.queue_ids()
    wait_warned(w.f, qid)                            # saved after the report
    time.sleep(3)                                    # more retries: no second warning
    sink = sinks("127.0.0.2", w.port)
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)
    assert len(w.f.messages("alice@example.test")) == 1
    assert w.f.log().count("event=delay-warning ") == 1


def test_delay_warning_survives_restart(world):
    """The "warned" mark is on disk: a restart does not warn again."""
    w = world.setup(extra={"queue.delay_warning": "1s"})
    submit(w.f, ["bob@remote.test"])
    w.f.wait_messages("alice@example.test", 1, timeout=20)
    w.f.wait_log("event=delay-warning ")
    [qid] = w.f.queue_ids()
    wait_warned(w.f, qid)                            # the envelope save
    w.f.stop()
    w.f.start()
    time.sleep(3)
    assert len(w.f.messages("alice@example.test")) == 1


def test_delete_of_an_entry_waiting_for_a_session(world, sinks):
    """One session to a slow receiver, three messages: while the first is
    in its transaction, the other two wait for the session as jobs. The
    third deleted then (`queue delete --silent`) never goes out: its job
    is dropped at once (no session opened for it), the second is sent,
    and the queue ends empty without a report."""
    w = world.setup(extra={"delivery.initial_per_domain": "1",
                           "delivery.max_per_domain": "1"})
    sink = sinks("127.0.0.2", w.port, data_delay=2)
    qids = []
    with smtplib.SMTP(*w.f.addr("smtp"), timeout=10) as s:
        s.ehlo("client.test")
        for i in range(3):
            assert s.mail("stranger@elsewhere.test")[0] == 250
            assert s.rcpt("fwd@example.test")[0] == 250
            code, text = s.data(f"Subject: wait {i}\r\n\r\nx\r\n".encode())
            assert code == 250, text
            qids.append(re.search(rb"queued as ([0-9a-f]{16})", text)[1].decode())
    time.sleep(0.5)                     # the first is in its DATA (2 s)
    r = w.f.cli("queue", "delete", qids[2], "--silent")
    assert f"ok deleted {qids[2]}" in r.stdout, r.stdout + r.stderr
    sink.wait(2, timeout=15)
    wait_queue_empty(w.f, timeout=15)
    subjects = [re.search(rb"Subject: wait (\d)", m[2])[1] for m in sink.messages]
    assert sorted(subjects) == [b"0", b"1"], subjects
    log = w.f.log()
    assert f"event=sent qid={qids[2]}" not in log
    assert f"event=queue-delete qid={qids[2]} bounce=no" in log
    assert "event=bounce" not in log


def test_no_backscatter_for_forwarded_mail(world, sinks):
    """Mail from outside forwarded by an alias is not bounced: its sender
    may be forged."""
    w = world.setup()
    sinks("127.0.0.2", w.port, rcpt_reply=lambda a: "550 5.1.1 gone")
    with smtplib.SMTP(*w.f.addr("smtp")) as s:
        s.sendmail("stranger@elsewhere.test", ["fwd@example.test"], b"Subject: fwd\r\n\r\nx\r\n")
    w.f.wait_log("event=bounce-suppressed .*reason=unauthenticated-sender")
    wait_queue_empty(w.f)


def test_queue_cli(world, sinks):
    w = world.setup()
    submit(w.f, ["bob@remote.test"], subject="cli one")
    submit(w.f, ["carol@remote.test"], subject="cli two")
    w.f.wait_log("event=deferred .*carol")
    ids = w.f.queue_ids()
    assert len(ids) == 2
    out = w.f.cli("queue", "list").stdout
    assert "2 messages in the queue" in out and "from <alice@example.test>" in out
    show = w.f.cli("queue", "show", ids[0]).stdout
    assert ids[0] in show and "Subject: cli" in show
    # delete one silently, one with a bounce
    assert "ok deleted" in w.f.cli("queue", "delete", ids[0], "--silent").stdout
    assert "sender notified" in w.f.cli("queue", "delete", ids[1], "--bounce").stdout
    [dsn] = w.f.wait_messages("alice@example.test", 1)
    assert b"deleted from the queue by the administrator" in dsn.read_bytes()
    wait_queue_empty(w.f)
    # flush: retried at once when asked
    submit(w.f, ["dan@remote.test"], subject="flush me")
    w.f.wait_log("event=deferred .*dan")
    sink = sinks("127.0.0.2", w.port)
    r = w.f.cli("queue", "flush")
    assert r.stdout.startswith("ok")
    sink.wait(1, timeout=5)
    assert w.f.cli("queue", "flush", "0123456789abcdef", check=False).returncode == 1
    assert w.f.cli("queue", "show", "../../etc", check=False).returncode == 1


def test_queue_cli_without_server(world):
    w = world.setup(start=False)
    assert "0 messages" in w.f.cli("queue", "list").stdout
    r = w.f.cli("queue", "flush", check=False)
    assert r.returncode == 1 and "not running" in r.stderr


def test_restart_resumes_queue(world, sinks):
    w = world.setup()
    submit(w.f, ["bob@remote.test"])
    w.f.wait_log("event=deferred")
    w.f.stop()
    sink = sinks("127.0.0.2", w.port)
    w.f.start()
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)


def test_deferrals_are_appended_to_the_entry(world, sinks):
    """Each deferral appends the envelope to the entry's .msg (no .env, no
    rename): after a restart the attempts made are remembered, the
    message sent is the one queued, and delivery removes the one file."""
    w = world.setup()
    body = submit(w.f, ["bob@remote.test"], subject="appended")
    w.f.wait_log("event=deferred .*attempts=2")
    w.f.stop()
    [qid] = w.f.queue_ids()
    env, msg, records = w.f.queue_entry_records(qid)
    assert records >= 2
    assert not (w.f.data_dir / "queue" / f"{qid}.env").exists()
    rcpt = [line.split() for line in env.splitlines() if line.startswith("rcpt ")]
    assert rcpt[0][1] == "pending" and int(rcpt[0][2]) == records
    assert strip_trace(msg) == body
    r = w.f.cli("queue", "show", qid)
    assert "Subject: appended" in r.stdout and "facteur-env" not in r.stdout
    sink = sinks("127.0.0.2", w.port)
    w.f.start()
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)
    assert strip_trace(sink.messages[0][2]) == body
    assert w.f.log().count(f"event=sent qid={qid}") == 1
    assert re.search(f"event=sent qid={qid} .*attempts={records + 1}", w.f.log())
    assert list((w.f.data_dir / "queue").glob(f"{qid}*")) == []


def write_format1_entry(f, qid, env, msg):
    """Rewrites the entry as builds before the appended records wrote it
    (header format 1: the envelope, then the message to the end)."""
    path = f.data_dir / "queue" / f"{qid}.msg"
    st = path.stat()
    path.write_bytes(b"facteur-msg 1 %010d\n" % len(env.encode()) + env.encode() + msg)
    os.chown(path, st.st_uid, st.st_gid)
    return path


def test_format1_entry_of_an_older_build_is_delivered(world, sinks):
    """An entry as the previous build wrote it (header format 1, the
    message to the end of the file) is read after an upgrade; its next
    state goes to a .env, as it did then."""
    w = world.setup()
    body = submit(w.f, ["bob@remote.test"], subject="format 1")
    w.f.wait_log("event=deferred")
    w.f.stop()
    [qid] = w.f.queue_ids()
    env, msg = w.f.queue_entry(qid)
    path = write_format1_entry(w.f, qid, env, msg)
    w.f.start()
    w.f.wait_log(f"event=deferred qid={qid} .*attempts=2")
    w.f.stop()
    assert (w.f.data_dir / "queue" / f"{qid}.env").exists()
    assert path.read_bytes().endswith(msg)
    sink = sinks("127.0.0.2", w.port)
    w.f.start()
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)
    assert strip_trace(sink.messages[0][2]) == body
    # The .msg goes first (queue_ids() looks at those), the .env after it.
    wait_until(lambda: list((w.f.data_dir / "queue").glob(f"{qid}*")) == [], "files left")


def test_an_entry_whose_state_went_to_a_env_is_removed_whole(world, sinks):
    """The runner unlinks a .env only for entries that may have one. An
    entry queued by this process whose states outgrew its .msg (100 long
    recipients, deferred until the records pass QUEUE_TAIL_MAX) has its
    state in a .env, and leaves neither file once delivered."""
    w = world.setup()
    rcpts = [f"r{i:02d}-{'x' * 56}@remote.test" for i in range(100)]
    submit(w.f, rcpts, subject="env while running")
    [qid] = w.f.queue_ids()
    q = w.f.data_dir / "queue"
    for attempt in range(1, 30):
        w.f.wait_log(f"event=deferred qid={qid} .*attempts={attempt}\\b")
        time.sleep(0.1)		# logged before it is written
        if (q / f"{qid}.env").exists():
            break
        w.f.cli("queue", "flush")
    assert (q / f"{qid}.env").exists()
    sink = sinks("127.0.0.2", w.port)
    w.f.cli("queue", "flush")
    sink.wait(1, timeout=20)
    wait_until(lambda: list(q.glob(f"{qid}*")) == [], "files left")


def test_an_entry_from_the_future_is_not_expired(world):
    """A clock set back (NTP, a resumed VM) puts an entry's creation in
    the future: its age is 0, not a huge unsigned number that expired
    it at its first temporary failure."""
    w = world.setup(extra={"queue.max_age": "1h"})
    submit(w.f, ["bob@remote.test"], subject="from the future")  # nobody listens
    w.f.wait_log("event=deferred")
    w.f.stop()
    [qid] = w.f.queue_ids()
    env, msg = w.f.queue_entry(qid)
    created = int(re.search(r"^created (\d+)$", env, re.M).group(1))
    env = env.replace(f"created {created}", f"created {created + 86400}")
    write_format1_entry(w.f, qid, env, msg)
    w.f.start()
    w.f.wait_log(f"event=deferred qid={qid} .*attempts=2")
    assert "event=expired" not in w.f.log()
    assert w.f.queue_ids() == [qid]


def test_two_file_entry_of_an_older_build_is_delivered(world, sinks):
    """An entry as builds before the one-file queue wrote it (a bare
    <qid>.msg beside its <qid>.env) is read and delivered after an
    upgrade; a .env whose .msg is gone (a removal cut short) is removed
    at startup."""
    w = world.setup()
    submit(w.f, ["bob@remote.test"], subject="old format")  # nobody listens
    w.f.wait_log("event=deferred")
    w.f.stop()
    [qid] = w.f.queue_ids()
    env, msg = w.f.queue_entry(qid)
    q = w.f.data_dir / "queue"
    st = (q / f"{qid}.msg").stat()
    orphan = "0123456789abcdef"
    for name, data in ((f"{qid}.msg", msg), (f"{qid}.env", env.encode()),
                       (f"{orphan}.env", env.replace(qid, orphan).encode())):
        (q / name).write_bytes(data)
        os.chown(q / name, st.st_uid, st.st_gid)
    assert not (q / f"{qid}.msg").read_bytes().startswith(b"facteur-msg")
    sink = sinks("127.0.0.2", w.port)
    w.f.start()
    sink.wait(1, timeout=20)
    wait_queue_empty(w.f)
    assert b"Subject: old format" in sink.messages[0][2]
    assert not (q / f"{orphan}.env").exists()
    # The .msg goes first (queue_ids() looks at those), the .env after it.
    wait_until(lambda: list(q.glob(f"{qid}*")) == [], "files left")


def test_kill9_during_delivery_loses_nothing(world, sinks):
    """Killed while the receiver holds the final reply: after a restart the
    message is delivered (perhaps twice, never zero times); a recipient
    already marked sent is not sent again."""
    w = world.setup()
    fast = sinks("127.0.0.3", w.port)                   # backup.test's mx2
    submit(w.f, ["done@backup.test"])
    fast.wait(1)
    wait_queue_empty(w.f)
    slow = sinks("127.0.0.2", w.port, data_delay=3)
    submit(w.f, ["slow@remote.test"], subject="in flight")
    time.sleep(1.0)                                      # DATA sent, waiting
    assert w.f.queue_ids()
    w.f.kill9()
    w.f.start()
    slow.wait(1, timeout=30)
    wait_queue_empty(w.f, timeout=30)
    assert len(fast.messages) == 1                      # never re-sent
    assert any(b"Subject: in flight" in m[2] for m in slow.messages)


class PlainServer:
    """A minimal SMTP receiver without 8BITMIME and SMTPUTF8."""

    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(5)
        self.got_data = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            f = c.makefile("rb")
            c.sendall(b"220 old.test\r\n")
            for line in f:
                cmd = line[:4].upper()
                if cmd == b"EHLO":
                    c.sendall(b"250-old.test\r\n250 SIZE 1000000\r\n")
                elif cmd == b"DATA":
                    self.got_data = True
                    c.sendall(b"554 no\r\n")
                elif cmd == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    break
                else:
                    c.sendall(b"250 ok\r\n")
            c.close()

    def stop(self):
        self.sock.close()


class InjectingStartTlsServer:
    """A receiver whose reply to STARTTLS comes with plaintext behind it
    in the same write, as a man in the middle would add (RFC 3207 4.2):
    then TLS, then SMTP inside it. Records each message and whether it
    came over TLS."""

    def __init__(self, host, port, ctx, inject=b"250 injected\r\n"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(5)
        self.ctx, self.inject = ctx, inject
        self.messages = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.session(c)
            except (OSError, ConnectionError):
                pass
            c.close()

    def session(self, c):
        tls = False
        f = c.makefile("rb")
        c.sendall(b"220 mitm.test\r\n")
        while line := f.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                c.sendall(b"250-mitm.test\r\n" + (b"" if tls else b"250-STARTTLS\r\n") +
                          b"250 8BITMIME\r\n")
            elif verb == b"STAR" and not tls:
                c.sendall(b"220 go ahead\r\n" + self.inject)
                c = self.ctx.wrap_socket(c, server_side=True)
                f, tls = c.makefile("rb"), True
            elif verb == b"DATA":
                c.sendall(b"354 go\r\n")
                data = b""
                while (l := f.readline()) not in (b".\r\n", b""):
                    data += l
                self.messages.append((tls, data))
                c.sendall(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")

    def stop(self):
        self.sock.close()


def test_plaintext_after_the_starttls_reply_is_discarded(world, tmp_path):
    """Bytes behind the 220 to STARTTLS were fed to the TLS handshake:
    its failure came back from inside conn_start_tls_client(), where the
    session freed the connection that conn_start_tls_client() then used,
    and facteur crashed. They are now dropped, the handshake goes on,
    and the message is sent inside TLS."""
    import ssl
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=mx1.remote.test"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    w = world.setup()
    mx = InjectingStartTlsServer("127.0.0.2", w.port, ctx)
    try:
        submit(w.f, ["bob@remote.test"], subject="behind a mitm")
        wait_queue_empty(w.f)
        [(tls, data)] = mx.messages
        assert tls and b"Subject: behind a mitm" in data
        assert re.search(r"event=mta-starttls-injection .*discarded=14", w.f.log())
        assert w.f.proc.poll() is None
    finally:
        mx.stop()


def test_8bit_not_sent_to_old_server(world):
    w = world.setup()
    old = PlainServer("127.0.0.2", w.port)
    try:
        submit(w.f, ["bob@remote.test"])
        [dsn] = w.f.wait_messages("alice@example.test", 1)
        assert b"8BITMIME" in dsn.read_bytes()
        assert not old.got_data
    finally:
        old.stop()


def test_facteur_to_facteur(world, make_facteur):
    """A second facteur receives on 127.0.0.2 as remote.test's MX."""
    w = world.setup()
    rx = make_facteur(name="receiver", domains=("remote.test",), hostname="mx1.remote.test",
                      listen={"smtp": "127.0.0.2"})
    rx.ports["smtp"] = w.port
    rx.write_config()
    rx.add_user("bob@remote.test")
    rx.start()
    body = submit(w.f, ["bob@remote.test"])
    [path] = rx.wait_messages("bob@remote.test", 1)
    data = path.read_bytes()
    assert data.endswith(body.replace(b"\r\n", b"\n"))
    assert data.count(b"Received: from ") == 2
    assert b"with ESMTPS" in data                      # STARTTLS was used
    assert "event=mta-tls" in w.f.log() and "verified=no" in w.f.log()


def test_smarthost_with_auth_and_tls(world, sinks, tmp_path):
    import ssl
    from aiosmtpd.smtp import AuthResult
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=relay.test"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"me" and auth_data.password == b"s3cret")

    pwfile = tmp_path / "relay.pw"
    pwfile.write_text("s3cret\n")
    w = world.setup(extra={"relay.host": "relay.test", "relay.port": str(w_port := world.port),
                           "relay.user": "me", "relay.password_file": str(pwfile),
                           "relay.tls_verify": "no"})
    sink = sinks("127.0.0.4", w_port, tls_context=ctx, require_starttls=True,
                 authenticator=authenticator)
    submit(w.f, ["anyone@remote.test", "other@elsewhere.test"])
    [(mail_from, rcpts, content, _)] = sink.wait(1)
    assert sorted(rcpts) == ["anyone@remote.test", "other@elsewhere.test"]
    assert logins == [(b"me", b"s3cret")]
    wait_queue_empty(w.f)


def test_smarthost_refuses_unverified_certificate(world, sinks, tmp_path):
    import ssl
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=relay.test"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    w = world.setup(extra={"relay.host": "relay.test", "relay.port": str(world.port)})
    sink = sinks("127.0.0.4", world.port, tls_context=ctx, require_starttls=True)
    submit(w.f, ["anyone@remote.test"])
    w.f.wait_log("event=deferred .*certificate does not verify")
    assert sink.messages == []


class CountingSink:
    """A threaded SMTP receiver that counts its sessions at once (peak),
    takes `delay` seconds per message, and answers 421 at once to a
    connection beyond `limit` sessions, as receivers that limit one
    client's connections do; the others get their 220 after
    `greet_delay` seconds (postscreen-like checks before the banner).
    `data_reply` is what DATA gets (anything but a 354: no message)."""

    def __init__(self, host, port, delay=0.0, limit=None, greet_delay=0.0,
                 data_reply=b"354 go\r\n"):
        import socketserver
        self.lock = threading.Lock()
        self.active = self.peak = self.refused = self.delivered = 0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                with sink.lock:
                    if sink.limit is not None and sink.active >= sink.limit:
                        sink.refused += 1
                        self.wfile.write(b"421 4.7.0 Too many connections\r\n")
                        return
                    sink.active += 1
                    sink.peak = max(sink.peak, sink.active)
                try:
                    self.session()
                finally:
                    with sink.lock:
                        sink.active -= 1

            def session(self):
                w = self.wfile.write
                time.sleep(sink.greet_delay)
                w(b"220 sink ESMTP\r\n")
                while True:
                    line = self.rfile.readline(4096)
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        w(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA" and not data_reply.startswith(b"354"):
                        w(data_reply)
                    elif verb == b"DATA":
                        w(data_reply)
                        while self.rfile.readline(65536) not in (b".\r\n", b""):
                            pass
                        time.sleep(sink.delay)
                        with sink.lock:
                            sink.delivered += 1
                        w(b"250 2.0.0 ok\r\n")
                    elif verb == b"QUIT":
                        w(b"221 bye\r\n")
                        return
                    else:
                        w(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.delay, self.limit, self.greet_delay = delay, limit, greet_delay
        self.server = Server((host, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_2xx_reply_to_data_is_not_a_delivery(world):
    """Only 354 lets the message go (RFC 5321 4.3.2). A receiver that
    answers DATA with 250 (broken, or one reply out of step) used to get
    the recipients marked sent and the entry removed, with no message
    ever sent; the job is now deferred and the session dropped."""
    w = world.setup()
    sink = CountingSink("127.0.0.2", w.port, data_reply=b"250 2.0.0 ok\r\n")
    try:
        submit(w.f, ["bob@remote.test"], subject="never sent")
        m = w.f.wait_log(r"event=deferred qid=(\w+) .*in reply to DATA")
        assert w.f.queue_ids() == [m.group(1)]
        assert "event=sent" not in w.f.log() and sink.delivered == 0
    finally:
        sink.stop()


def wait_deferrals(f, n, timeout=10):
    """Until the log holds n deferrals (or the timeout)."""
    end = time.time() + timeout
    while len(re.findall(r"event=deferred ", f.log())) < n and time.time() < end:
        time.sleep(0.05)


def queue_for_remote(f, n):
    """n messages for fwd@example.test (someone@remote.test), one connection."""
    with smtplib.SMTP(*f.addr("smtp"), timeout=10) as s:
        for i in range(n):
            s.sendmail("stranger@elsewhere.test", ["fwd@example.test"],
                       f"Subject: m{i}\r\n\r\nx\r\n".encode())


def test_sessions_grow_with_the_backlog(world):
    """A slow receiver and a backlog: from initial_per_domain sessions the
    window opens one more per window's worth of deliveries, never past
    max_per_domain; mail that trickles in would not grow it."""
    w = world.setup(extra={"delivery.initial_per_domain": "2",
                           "delivery.max_per_domain": "6"})
    sink = CountingSink("127.0.0.2", w.port, delay=0.1)
    try:
        queue_for_remote(w.f, 80)
        wait_queue_empty(w.f, timeout=30)
        assert sink.delivered == 80
        assert 5 <= sink.peak <= 6, sink.peak
        assert "event=deferred" not in w.f.log()
        assert re.search(r"event=mta-concurrency domain=remote\.test window=6 "
                         r"reason=backlog", w.f.log())
    finally:
        sink.stop()


def test_a_receiver_that_refuses_one_connection_too_many(world):
    """The receiver takes 3 sessions and answers 421 at once to more, its
    220 coming later: a flushed queue opens 5 sessions at once, the window
    falls to 3 and stays there, the mail goes out through the 3 sessions
    (nothing deferred for the refusals), and there is no refused
    connection every few messages."""
    w = world.setup(extra={"delivery.initial_per_domain": "5",
                           "delivery.max_per_domain": "10",
                           "queue.retry_min": "1h", "queue.retry_max": "2h"})
    queue_for_remote(w.f, 60)       # nobody listens yet: all deferred
    wait_deferrals(w.f, 60)
    sink = CountingSink("127.0.0.2", w.port, delay=0.03, limit=3, greet_delay=0.05)
    try:
        before = len(w.f.log())
        assert w.f.cli("queue", "flush").stdout.startswith("ok")
        wait_queue_empty(w.f, timeout=30)
        assert sink.delivered == 60
        assert sink.peak <= 3
        # 2 (sessions 4 and 5); one more if the sink counts a closing
        # session a moment longer than we do.
        assert 1 <= sink.refused <= 3, sink.refused
        log = w.f.log()[before:]
        assert "event=deferred" not in log
        assert "event=mta-concurrency domain=remote.test window=3 reason=refused" in log
    finally:
        sink.stop()


def test_a_dead_first_address_is_not_a_refusal(world):
    """backup.test's first MX refuses connections and its second takes
    the mail: each session's failure on the first address says nothing
    about the second's limit, so the window still grows."""
    w = world.setup(extra={"delivery.initial_per_domain": "2",
                           "delivery.max_per_domain": "4"}, start=False)
    w.f.set_aliases("fwd@example.test: someone@backup.test\n")
    w.f.start()
    sink = CountingSink("127.0.0.3", w.port, delay=0.1)
    try:
        queue_for_remote(w.f, 50)
        wait_queue_empty(w.f, timeout=30)
        assert sink.delivered == 50
        log = w.f.log()
        assert "reason=refused" not in log and "event=deferred" not in log
        assert "window=4 reason=backlog" in log
        assert sink.peak == 4, sink.peak
    finally:
        sink.stop()


def test_a_host_that_was_down_gets_the_full_window_when_back(world):
    """Connections refused while nothing was at work are a host down, not
    a peer throttling us: when it is back, the queue drains through the
    whole window, not through one session."""
    w = world.setup(extra={"delivery.initial_per_domain": "3",
                           "delivery.max_per_domain": "3"})
    queue_for_remote(w.f, 30)
    wait_deferrals(w.f, 30)
    sink = CountingSink("127.0.0.2", w.port, delay=0.05)
    try:
        wait_queue_empty(w.f, timeout=30)
        assert sink.delivered == 30
        assert sink.peak == 3, sink.peak
        assert "reason=refused" not in w.f.log()
    finally:
        sink.stop()


def test_a_destination_refusing_every_connection_is_deferred(world):
    """Sessions refused with none at work: the destination's mail is
    deferred with the reason, as before; no new session after that (at
    most one attempt per message queued, each arriving on its own)."""
    w = world.setup(extra={"queue.retry_min": "1h", "queue.retry_max": "2h"})
    sink = CountingSink("127.0.0.2", w.port, limit=0)
    try:
        queue_for_remote(w.f, 10)
        wait_deferrals(w.f, 10)
        refused = sink.refused
        time.sleep(1.5)
        log = w.f.log()
        assert len(re.findall(r"event=deferred ", log)) == 10, log[-3000:]
        assert re.search(r"event=deferred .*to=someone@remote\.test.*Too many connections", log)
        assert 1 <= refused <= 10 and sink.refused == refused
        assert len(w.f.queue_ids()) == 10
    finally:
        sink.stop()


class HostileDns:
    """A DNS server on loopback that serves what dnsmasq refuses to: MX
    records of one domain whose exchange labels hold any byte (a line
    end, a space). mx: [(preference, [label bytes, ...])]. Every A query
    gets 127.0.0.2, everything else no data; a TTL of 0, so nothing is
    kept."""

    def __init__(self, domain, mx):
        import struct
        self.struct = struct
        self.domain, self.mx = domain.encode(), mx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def resolver(self):
        return f"127.0.0.1:{self.port}"

    def serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            reply = self.answer(query)
            if reply:
                self.sock.sendto(reply, peer)

    def answer(self, q):
        pack = self.struct.pack
        if len(q) < 12 or q[4:6] != b"\x00\x01":
            return None
        qid, flags = self.struct.unpack("!HH", q[:4])
        i, labels = 12, []
        while 0 < q[i] < 64:
            labels.append(q[i + 1:i + 1 + q[i]])
            i += 1 + q[i]
        qtype = self.struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        rdatas = []
        if qtype == 15 and b".".join(labels).lower() == self.domain:
            for pref, names in self.mx:
                rdatas.append(pack("!H", pref) +
                              b"".join(bytes([len(n)]) + n for n in names) + b"\0")
        elif qtype == 1:
            rdatas.append(socket.inet_aton("127.0.0.2"))
        head = pack("!HHHHHH", qid, 0x8480 | (flags & 0x0100), 1, len(rdatas), 0, 0)
        # Each answer's owner is the question's name (pointer to offset 12).
        return head + question + b"".join(
            b"\xc0\x0c" + pack("!HHIH", qtype, 1, 0, len(r)) + r for r in rdatas)

    def stop(self):
        self.sock.close()


def test_a_hostile_mx_name_cannot_add_recipients(world, sinks):
    """An MX name is DNS data: one whose labels hold a line end used to be
    copied into the recipient's error text ("<mx>[ip] said: ..."), which
    the envelope writes as one line, so it added a recipient at the next
    load; it reached the failure report too. Such a name is refused now,
    as is one that is not a host name (mx_1), the next MX is used, and
    neither the queue nor the report holds it."""
    evil = [b"mx\nrcpt pending 0 0 victim@target", b"example\nerror 0 x",
            b"evil", b"test"]
    dns = HostileDns("evil.test", [(10, evil), (15, [b"mx_1", b"evil", b"test"]),
                                   (20, [b"mx2", b"evil", b"test"])])
    try:
        w = world.setup(extra={"dns.resolver": dns.resolver})
        sink = sinks("127.0.0.2", w.port, rcpt_reply=lambda a:
                     "451 4.7.1 later" if a.startswith("bob") else "550 5.1.1 no such user")
        submit(w.f, ["bob@evil.test"], subject="deferred")
        w.f.wait_log("event=deferred .*to=bob@evil.test")
        submit(w.f, ["carol@evil.test"], subject="bounced")
        [dsn] = w.f.wait_messages("alice@example.test", 1)
        w.f.stop()
    finally:
        dns.stop()
    assert b"victim" not in dsn.read_bytes()
    _, (text, status, _) = dsn_of(dsn)
    assert "Status: 5.1.1" in status.as_string()
    assert "mx2.evil.test[127.0.0.2] said: 550 5.1.1" in text.get_content()
    [qid] = w.f.queue_ids()
    env, _ = w.f.queue_entry(qid)
    assert "victim" not in env
    rcpts = [line for line in env.splitlines() if line.startswith("rcpt ")]
    assert len(rcpts) == 1 and rcpts[0].endswith(" bob@evil.test"), env
    assert re.search(r"^error 0 mx2\.evil\.test\[127\.0\.0\.2\] said: 451 4\.7\.1 later",
                     env, re.M), env
    assert sink.attempts and set(sink.attempts) <= {"bob@evil.test", "carol@evil.test"}
    assert "event=mx-invalid domain=evil.test mx=(unreadable)" in w.f.log()
    assert "event=mx-invalid domain=evil.test mx=mx_1.evil.test" in w.f.log()
