#!/usr/bin/python3
"""bench/bruteforce.py - a password-guessing attack against facteur while
a real user sends mail (issue 6).

The attacker: ATTACKERS threads hammering AUTH PLAIN with wrong passwords
over implicit TLS (port 465 style) from 127.0.0.2, reconnecting at once
whenever they are refused or cut off. The user: one client at 127.0.0.1
that logs in once and then sends messages in a loop, timing each
transaction (MAIL..DATA..250).

The attacker runs in its own process at nice 19: on the internet its CPU
is not the server's, and here it must neither take the user's CPU nor
hold the user's Python GIL, or the user's latency would measure the
benchmark rather than facteur. Its connections still reach the server
as fast as it can make them.

Reported: guesses the attacker got an answer to (the only ones that could
have succeeded), their rate, the ban schedule they ran into, and the
user's p50/p99 transaction latency without and during the attack.

  /usr/bin/python3 bench/bruteforce.py [--seconds 60] [--attackers 50]

It starts its own facteur (build/facteur) on loopback with the production
[bans] defaults and a data dir under bench/work/bruteforce; no DNS query
leaves the machine ([dns] resolver is a closed loopback port). Results
go to stdout and bench/BRUTEFORCE.md.
"""
import argparse
import base64
import multiprocessing
import os
import pathlib
import shutil
import signal
import smtplib
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("FACTEUR_BIN", str(ROOT / "build" / "facteur"))
WORK = ROOT / "bench" / "work" / "bruteforce"
PW = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def start_server():
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    ports = {"submissions": free_port(), "submission": free_port()}
    conf = WORK / "facteur.conf"
    conf.write_text(f"""[server]
hostname = mail.example.test
domains = example.test
data_dir = {WORK / 'data'}
log_level = info
run_as_root = yes
[listen]
submissions = 127.0.0.1:{ports['submissions']}
submission = 127.0.0.1:{ports['submission']}
[limits]
max_connections_per_ip = 1000
connections_per_minute = 0
user_messages_per_minute = 100000
user_recipients_per_minute = 100000
[dns]
resolver = 127.0.0.1:9
""")
    subprocess.run([BIN, "user", "add", "user@example.test", "-c", str(conf)],
                   input=PW + "\n", text=True, check=True, capture_output=True)
    log = open(WORK / "facteur.log", "wb")
    proc = subprocess.Popen([BIN, "serve", "-c", str(conf)], stdout=log, stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", ports["submissions"]), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, ports, log


class Attacker:
    def __init__(self, port, threads):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answered = 0        # AUTH attempts that got a 535
        self.refused = 0         # connections turned away (banned)
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        ctx = tls_ctx()
        auth = "AUTH PLAIN " + base64.b64encode(b"\0user@example.test\0guess") .decode() + "\r\n"
        while not self.stop.is_set():
            try:
                raw = socket.create_connection(("127.0.0.1", self.port), timeout=30,
                                               source_address=("127.0.0.2", 0))
                s = ctx.wrap_socket(raw)
                f = s.makefile("rb")
                if not f.readline().startswith(b"220"):
                    raise ConnectionError
                s.sendall(b"EHLO bot.test\r\n")
                while f.readline()[3:4] == b"-":
                    pass
                while not self.stop.is_set():
                    s.sendall(auth.encode())
                    line = f.readline()
                    if not line.startswith(b"535"):
                        raise ConnectionError
                    with self.lock:
                        self.answered += 1
                s.close()
            except (OSError, ConnectionError, ssl.SSLError):
                with self.lock:
                    self.refused += 1
                time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(5)


def attack_process(port, threads, stop, answered, refused):
    os.nice(19)
    with Attacker(port, threads) as att:
        stop.wait()
    answered.value, refused.value = att.answered, att.refused


class AttackerProcess:
    """Attacker in a child process; answered/refused read after exit."""
    def __init__(self, port, threads):
        ctx = multiprocessing.get_context("fork")
        self.stop = ctx.Event()
        self._answered, self._refused = ctx.Value("q", 0), ctx.Value("q", 0)
        self.proc = ctx.Process(target=attack_process, daemon=True,
                                args=(port, threads, self.stop, self._answered,
                                      self._refused))

    def __enter__(self):
        self.proc.start()
        time.sleep(0.5)     # let it reach its stride
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.join(30)
        self.answered, self.refused = self._answered.value, self._refused.value


def user_latencies(port, seconds):
    """Transaction times (s) of a real user for `seconds`."""
    out = []
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.starttls(context=tls_ctx())
        s.login("user@example.test", PW)
        end = time.time() + seconds
        n = 0
        while time.time() < end:
            n += 1
            msg = f"From: user@example.test\r\nSubject: {n}\r\n\r\nhello\r\n".encode()
            t0 = time.perf_counter()
            s.sendmail("user@example.test", ["user@example.test"], msg)
            out.append(time.perf_counter() - t0)
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--attackers", type=int, default=50)
    args = ap.parse_args()
    proc, ports, log = start_server()
    try:
        quiet = user_latencies(ports["submission"], args.seconds / 3)
        t0 = time.time()
        with AttackerProcess(ports["submissions"], args.attackers) as att:
            busy = user_latencies(ports["submission"], args.seconds)
        elapsed = time.time() - t0
        answered, refused = att.answered, att.refused
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()
    text = (WORK / "facteur.log").read_text(errors="replace")
    bans = [l.split("event=ban ", 1)[1] for l in text.splitlines() if "event=ban " in l]
    # A guess counts when its password was really checked: the server logs
    # banned=yes on the attempts it refused without looking at the hash.
    guesses = sum(1 for l in text.splitlines()
                  if "event=auth-fail ip=127.0.0.2 " in l and "banned=yes" not in l)
    # With the default ban schedule (5 failures, then 15 min, 1 h, 1 d...),
    # one hour holds at most 5 + 5 answered guesses for one client.
    per_hour_bound = 10
    rows = [
        ("attack length", f"{elapsed:.0f} s, {args.attackers} connections from 127.0.0.2"),
        ("guesses checked", f"{guesses} (the ban schedule caps a client at {per_hour_bound} per hour)"),
        ("AUTH replies to the attacker", f"{answered} (after the ban: refused without checking)"),
        ("connections turned away", str(refused)),
        ("bans", "; ".join(bans) or "none"),
        ("user p50 quiet / attack", f"{pct(quiet, .5) * 1000:.1f} ms / {pct(busy, .5) * 1000:.1f} ms"),
        ("user p99 quiet / attack", f"{pct(quiet, .99) * 1000:.1f} ms / {pct(busy, .99) * 1000:.1f} ms"
                                    f" (ratio {pct(busy, .99) / pct(quiet, .99):.2f})"),
        ("user transactions", f"{len(quiet)} quiet, {len(busy)} during the attack"),
    ]
    report = ["# Brute-force benchmark", "",
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().sysname} "
              f"{os.uname().release}, {os.cpu_count()} cores. Command: "
              f"`/usr/bin/python3 bench/bruteforce.py --seconds {args.seconds:g} "
              f"--attackers {args.attackers}`", "",
              "| measure | result |", "|---|---|"]
    report += [f"| {k} | {v} |" for k, v in rows]
    print("\n".join(report))
    (ROOT / "bench" / "BRUTEFORCE.md").write_text("\n".join(report) + "\n")
    ok = guesses <= per_hour_bound and pct(busy, .99) <= 2 * pct(quiet, .99)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
