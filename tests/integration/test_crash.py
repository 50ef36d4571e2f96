"""Crash safety: every message that got a 250 survives SIGKILL at any time.

Several clients send messages with unique ids while another thread kills
the server with SIGKILL at random moments and restarts it.  Afterwards
every acknowledged message must be in its Maildir exactly once and
byte-identical; no file in new/ may be partial.
"""
import os
import random
import smtplib
import threading
import time

from conftest import wait_port

CLIENTS = 6
DURATION = float(os.environ.get("FACTEUR_CRASH_SECONDS", "8"))


def make_message(msg_id, rng):
    lines = [f"Subject: crash {msg_id}", f"Message-ID: <{msg_id}@crash.test>", ""]
    for i in range(rng.randint(1, 200)):
        lines.append(f"{msg_id} line {i} " + "x" * rng.randint(0, 300))
    return ("\r\n".join(lines) + "\r\n").encode()


def test_sigkill_loses_nothing_acknowledged(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    f.start()
    acked = {}          # id -> (rcpts, message bytes)
    sent = {}
    lock = threading.Lock()
    stop = threading.Event()
    kills = [0]

    def client(n):
        rng = random.Random(n)
        seq = 0
        while not stop.is_set():
            try:
                with smtplib.SMTP(*f.addr(), timeout=5) as s:
                    while not stop.is_set():
                        seq += 1
                        msg_id = f"c{n}m{seq}"
                        rcpts = rng.choice([["alice@example.test"], ["bob@example.test"],
                                            ["alice@example.test", "bob@example.test"]])
                        msg = make_message(msg_id, rng)
                        with lock:
                            sent[msg_id] = (rcpts, msg)
                        s.sendmail("sender@remote.test", rcpts, msg)
                        with lock:
                            acked[msg_id] = (rcpts, msg)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)

    def killer():
        rng = random.Random(42)
        while not stop.is_set():
            time.sleep(rng.uniform(0.1, 0.6))
            if stop.is_set():
                break
            f.kill9()
            kills[0] += 1
            f.start(wait=False)
            wait_port(*f.addr())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join(30)
    f.stop()

    found = {}
    for addr in ("alice@example.test", "bob@example.test"):
        for path in f.messages(addr):
            data = path.read_bytes()
            subject = data.split(b"Subject: crash ", 1)[1].split(b"\n", 1)[0].decode()
            found.setdefault(subject, []).append((addr, data))
            # Every visible file is complete: it ends with the last line sent.
            rcpts, msg = sent[subject]
            assert data.endswith(msg.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")), path

    missing = []
    for msg_id, (rcpts, msg) in acked.items():
        got = sorted(a for a, _ in found.get(msg_id, []))
        if got != sorted(rcpts):
            missing.append((msg_id, rcpts, got))
    print(f"kills={kills[0]} sent={len(sent)} acknowledged={len(acked)} "
          f"found={len(found)} missing={len(missing)}")
    assert kills[0] >= 5
    assert len(acked) > 50
    assert missing == []


def test_sigkill_with_outbound_queue(make_facteur, dns_server, sinks):
    """Authenticated mail for another domain goes through the queue while
    the server is killed again and again: after the last restart the queue
    drains, and every acknowledged message reached the remote server (at
    least once: a kill between the remote 250 and our envelope write may
    send it twice, never zero times), complete; no entry is left stuck."""
    import smtplib as sl
    from conftest import client_tls_context, free_port_on
    port = free_port_on("127.0.0.2")
    d = dns_server(mx=[("remote.test", "mx.remote.test", 10)], a=[("mx.remote.test", "127.0.0.2")])
    f = make_facteur(listen={"submission": "127.0.0.1"},
                     extra={"dns.resolver": d.resolver, "delivery.port": str(port),
                            "queue.retry_min": "1s", "queue.retry_max": "1s",
                            "auth.plaintext_localhost": "yes",
                            "limits.user_messages_per_minute": "100000",
                            "limits.user_recipients_per_minute": "100000"})
    f.add_user("alice@example.test")
    f.start()
    sink = sinks("127.0.0.2", port)
    acked, lock, stop, kills = {}, threading.Lock(), threading.Event(), [0]

    def client(n):
        rng = random.Random(100 + n)
        seq = 0
        while not stop.is_set():
            try:
                with sl.SMTP(*f.addr("submission"), timeout=5) as s:
                    s.login("alice@example.test", "password123")
                    while not stop.is_set():
                        seq += 1
                        msg_id = f"q{n}m{seq}"
                        msg = b"From: alice@example.test\r\n" + make_message(msg_id, rng)
                        s.sendmail("alice@example.test", [f"{msg_id}@remote.test"], msg)
                        with lock:
                            acked[msg_id] = msg
            except (OSError, sl.SMTPException):
                time.sleep(0.02)

    def killer():
        rng = random.Random(7)
        while not stop.is_set():
            time.sleep(rng.uniform(0.2, 0.8))
            if stop.is_set():
                break
            f.kill9()
            kills[0] += 1
            f.start(wait=False)
            wait_port(*f.addr("submission"))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join(30)
    # The queue drains after the last restart: wait while it makes
    # progress (a long run leaves tens of thousands of entries for the
    # Python receiver), give up after 30 s without any.
    last, last_change = None, time.time()
    while time.time() - last_change < 30:
        left = len(f.queue_ids())
        if left == 0:
            break
        if left != last:
            last, last_change = left, time.time()
        time.sleep(0.5)
    stuck = f.queue_ids()
    got = {}
    for _, rcpts, content, _ in sink.messages:
        for r in rcpts:
            got.setdefault(r.split("@")[0], []).append(content)
    missing = [m for m in acked if m not in got]
    broken = [m for m, msg in acked.items() if m in got and
              not all(c.endswith(msg.split(b"\r\n\r\n", 1)[1]) for c in got[m])]
    dups = sum(1 for m in got if len(got[m]) > 1)
    print(f"queue crash: kills={kills[0]} acknowledged={len(acked)} delivered={len(got)} "
          f"duplicates={dups} missing={len(missing)} stuck={len(stuck)}")
    assert kills[0] >= 3 and len(acked) > 20
    assert missing == [] and broken == [] and stuck == []
