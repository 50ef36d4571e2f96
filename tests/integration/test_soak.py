"""Soak (issue 9): hundreds of concurrent sessions for a while, mixing good
senders, slow clients and garbage senders. The server's memory stays flat,
file descriptors do not leak, every good message arrives.

FACTEUR_SOAK_SECONDS sets the length (default 20; docs/robustness.md has
a longer run); FACTEUR_SOAK_TRACE=FILE writes one line per second there:
seconds, RSS in kB, open file descriptors."""
import os
import random
import smtplib
import socket
import threading
import time

SECONDS = float(os.environ.get("FACTEUR_SOAK_SECONDS", "20"))
GOOD, SLOW, GARBAGE = 40, 150, 30


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_soak(make_facteur):
    f = make_facteur(extra={"limits.max_connections_per_ip": "1000",
                            "limits.max_connections": "2000",
                            "limits.command_timeout": "30s",
                            "server.log_level": "warn"})
    f.add_user("alice@example.test")
    f.start()
    pid = f.proc.pid
    # Warm up: the resolver and the workers open what they keep open.
    with smtplib.SMTP(*f.addr(), timeout=30) as s:
        s.sendmail("s@remote.test", ["alice@example.test"], b"Subject: warm\r\n\r\nx\r\n")
    time.sleep(0.5)
    base_fds = fds(pid)
    stop = threading.Event()
    acked, lock = [], threading.Lock()
    samples = []

    def good(n):
        rng = random.Random(n)
        seq = 0
        while not stop.is_set():
            try:
                with smtplib.SMTP(*f.addr(), timeout=30) as s:
                    for _ in range(rng.randint(1, 5)):
                        seq += 1
                        tag = f"g{n}-{seq}"
                        s.sendmail("s@remote.test", ["alice@example.test"],
                                   f"Subject: {tag}\r\n\r\n{tag}\r\n".encode() +
                                   (b"y" * 76 + b"\r\n") * rng.randint(0, 300))
                        with lock:
                            acked.append(tag)
            except (OSError, smtplib.SMTPException) as e:
                raise AssertionError(f"good client failed: {e!r}")

    def slow(n):
        rng = random.Random(1000 + n)
        while not stop.is_set():
            try:
                c = socket.create_connection(f.addr(), timeout=30)
                c.recv(200)
                for ch in b"EHLO slow.test\r\nMAIL FROM:<a@b.test>\r\n":
                    if stop.is_set():
                        break
                    c.sendall(bytes([ch]))
                    time.sleep(rng.uniform(0.05, 0.3))
                c.close()
            except OSError:
                time.sleep(0.1)

    def garbage(n):
        rng = random.Random(2000 + n)
        while not stop.is_set():
            try:
                c = socket.create_connection(f.addr(), timeout=30)
                c.recv(200)
                kind = rng.randint(0, 3)
                if kind == 0:
                    c.sendall(os.urandom(rng.randint(1, 5000)))
                elif kind == 1:
                    c.sendall(b"A" * 100000 + b"\r\n")
                elif kind == 2:
                    c.sendall(b"EHLO x\r\nDATA\r\n" + b"junk\n" * 1000)
                else:
                    c.sendall(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<nobody@example.test>\r\n" * 20)
                time.sleep(rng.uniform(0, 0.2))
                c.close()
            except OSError:
                time.sleep(0.05)

    threads = ([threading.Thread(target=good, args=(i,)) for i in range(GOOD)] +
               [threading.Thread(target=slow, args=(i,)) for i in range(SLOW)] +
               [threading.Thread(target=garbage, args=(i,)) for i in range(GARBAGE)])
    for t in threads:
        t.daemon = True
        t.start()
    end = time.time() + SECONDS
    while time.time() < end:
        samples.append((time.time(), rss_kb(pid), fds(pid)))
        time.sleep(1)
    stop.set()
    for t in threads:
        t.join(60)
    time.sleep(1.0)
    final_fds = fds(pid)
    msgs = f.wait_messages("alice@example.test", len(acked) + 1, timeout=60)
    got = set()
    for p in msgs:
        if b"Subject: warm" in p.read_bytes():
            continue
        got.add(p.read_bytes().split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode())
    missing = [t for t in acked if t not in got]
    if os.environ.get("FACTEUR_SOAK_TRACE"):
        with open(os.environ["FACTEUR_SOAK_TRACE"], "w") as out:
            for t, r, n in samples:
                out.write(f"{t - samples[0][0]:.0f} {r} {n}\n")
    rss = [r for _, r, _ in samples]
    third = max(1, len(rss) // 3)
    early, late = max(rss[third:2 * third] or rss), max(rss[2 * third:] or rss)
    print(f"soak: {SECONDS:.0f} s, {GOOD}+{SLOW}+{GARBAGE} clients, {len(acked)} messages "
          f"acknowledged, {len(missing)} missing; RSS kB first/middle/last third max: "
          f"{max(rss[:third])}/{early}/{late}; peak fds {max(n for _, _, n in samples)}, "
          f"fds at rest before/after: {base_fds}/{final_fds}")
    assert missing == []
    assert len(acked) > 100
    assert final_fds <= base_fds + 2, (base_fds, final_fds)
    # Flat: the last third does not keep growing past the middle one.
    assert late <= early * 1.25 + 4096, (early, late)
