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
