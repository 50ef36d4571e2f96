#!/usr/bin/env python3
"""bench/profile.py - where facteur spends its time, for docs/performance.md.
Not part of `make bench` (it takes a few minutes and needs valgrind and
perf: apt-get install valgrind linux-perf). Run as root after `make`:

  /usr/bin/python3 bench/profile.py [--only callgrind|perf|syscalls|fsync]

Uses the same setup as bench/bench.py (facteur as the user nobody on
loopback, dnsmasq for SPF/DMARC, the same smtp-source loads) in
bench/work/profile/, removed at exit unless --keep. Prints:

- callgrind: instructions per message (a run of N messages minus a run of
  none, so start-up and shutdown cancel out) and the top functions, for
  1 KB x 1 recipient and 100 KB x 10 recipients. Instruction counts do not
  depend on the machine's noise.
- perf: `perf stat` (task-clock, context switches, faults) and `perf record
  -e cpu-clock -g` top symbols during a 100-client 1 KB run (hardware
  counters are not available in this VM, so cpu-clock sampling).
- syscalls: `strace -c -f` of facteur over a 10-client 1 KB run: system
  calls per message.
- fsync: `strace -T` of the sync calls at 1 client x 10 recipients: what
  each costs and in which order they come.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the harness: its setup is reused as is)

bench.WORK = bench.WORK_TOP / "profile"
bench.BIN = bench.WORK / "bin"
OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def load(fct, clients, nmsg, rcpts, size):
    cmd = bench.smtp_source_cmd(fct.port, clients, nmsg, rcpts, size)
    t0, t1 = bench.run_smtp_source(cmd, timeout=3600)
    return t1 - t0


def callgrind(fct):
    say("## callgrind: instructions per message")
    cases = [(10, 2000, 1, 1024), (10, 100, 10, 102400)]
    base = {}
    cgdir = bench.WORK / "callgrind"      # written at exit, after the privilege drop
    cgdir.mkdir()
    os.chown(cgdir, fct.owner.pw_uid, fct.owner.pw_gid)
    for clients, nmsg, rcpts, size in cases:
        for n in (0, nmsg):
            out = cgdir / f"callgrind-{size}-{rcpts}-{n}.out"
            fct.reset()
            # valgrind writes its output at exit: run it as nobody from the
            # start (facteur then has no privileges to drop).
            fct.start(wrap=["setpriv", f"--reuid={fct.owner.pw_uid}",
                            f"--regid={fct.owner.pw_gid}", "--clear-groups",
                            "valgrind", "--tool=callgrind", "--quiet",
                            f"--callgrind-out-file={out}"], timeout=300)
            if n:
                load(fct, clients, n, rcpts, size)
            fct.stop()
            total = 0
            with open(out) as f:
                for line in f:
                    if line.startswith("summary:") or line.startswith("totals:"):
                        total = int(line.split()[1])
            base[(size, rcpts, n)] = total
        per = (base[(size, rcpts, nmsg)] - base[(size, rcpts, 0)]) / nmsg
        say(f"\n### {size // 1024} KB x {rcpts} rcpt, {clients} clients, {nmsg} messages: "
            f"{per:,.0f} instructions per message "
            f"(run {base[(size, rcpts, nmsg)]:,}, empty run {base[(size, rcpts, 0)]:,})")
        full = self_costs(cgdir / f"callgrind-{size}-{rcpts}-{nmsg}.out")
        empty = self_costs(cgdir / f"callgrind-{size}-{rcpts}-0.out")
        diff = {fn: (ir - empty.get(fn, 0)) / nmsg for fn, ir in full.items()}
        say("\nSelf cost per message by function (the run minus the empty run, "
            "divided by the messages):\n")
        say("```")
        for fn, ir in sorted(diff.items(), key=lambda kv: -kv[1])[:25]:
            say(f"{ir:12,.0f}  {ir / per * 100:5.1f}%  {fn[:110]}")
        say("```")
        incl = self_costs(cgdir / f"callgrind-{size}-{rcpts}-{nmsg}.out", inclusive=True)
        incl0 = self_costs(cgdir / f"callgrind-{size}-{rcpts}-0.out", inclusive=True)
        say("\nInclusive cost per message, facteur's own functions:\n")
        say("```")
        rows = [(fn, (ir - incl0.get(fn, 0)) / nmsg) for fn, ir in incl.items()
                if fn.startswith("src/")]
        for fn, ir in sorted(rows, key=lambda kv: -kv[1])[:28]:
            say(f"{ir:12,.0f}  {ir / per * 100:5.1f}%  {fn[:110]}")
        say("```")


def self_costs(path, inclusive=False):
    """function -> instructions, from callgrind_annotate."""
    ann = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                          "--auto=no", "--threshold=100", str(path)],
                         capture_output=True, text=True).stdout
    out = {}
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S.*?)(?: \[.*\])?$", line)
        if not m or "PROGRAM TOTALS" in line or "=>" in line:
            continue
        fn = m.group(2)
        if fn.startswith("/"):          # inclusive lists each function twice
            continue
        fn = re.sub(r"^\./|^.*?/(?=src/)", "", fn)
        fn = re.sub(r"^.*sysdeps/x86_64/(multiarch/)?", "libc:", fn)
        fn = re.sub(r"^\./?(\w+)/\./\1/", "libc:", fn)
        out[fn] = out.get(fn, 0) + int(m.group(1).replace(",", ""))
    return out


def perf(fct):
    say("\n## perf (cpu-clock sampling), 100 clients, 1 KB x 1, 6000 messages")
    data = bench.WORK / "perf.data"
    fct.reset()
    fct.start()
    bench.warm_up(fct, 100)
    pid = fct.server_pid
    st = subprocess.Popen(["perf", "stat", "-e",
                           "task-clock,context-switches,cpu-migrations,page-faults",
                           "-p", str(pid)], stderr=subprocess.PIPE, text=True)
    rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-g",
                            "-o", str(data), "-p", str(pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    secs = load(fct, 100, 6000, 1, 1024)
    for p in (st, rec):
        p.send_signal(signal.SIGINT)
    _, err = st.communicate(timeout=30)
    rec.wait(30)
    say(f"\n6000 messages in {secs:.2f} s ({6000 / secs:.0f}/s)\n")
    say("```")
    for l in err.splitlines():
        if l.strip() and ("task-clock" in l or "switches" in l or "migrations" in l
                          or "faults" in l or "elapsed" in l):
            say(l.rstrip())
    say("```")
    for sort, title in (("dso", "by object"), ("dso,symbol", "by symbol")):
        rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children",
                              "--sort", sort, "--stdio", "-g", "none", "--percent-limit",
                              "0.8"], capture_output=True, text=True).stdout
        say(f"\nSamples {title}:\n")
        say("```")
        for l in rep.splitlines():
            if l.strip() and not l.startswith("#"):
                say(l.rstrip()[:140])
        say("```")
    fct.stop()


def syscalls(fct):
    say("\n## System calls per message (strace -c -f), 10 clients, 1 KB x 1, 2000 messages")
    out = bench.WORK / "strace-c.txt"
    fct.reset()
    fct.start()
    bench.warm_up(fct, 10)
    st = subprocess.Popen(["strace", "-c", "-f", "-o", str(out), "-p", str(fct.server_pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(1)
    load(fct, 10, 2000, 1, 1024)
    st.send_signal(signal.SIGINT)
    st.wait(30)
    fct.stop()
    say("\n```")
    total = 0
    for l in out.read_text().splitlines():
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", l)
        if m and m.group(2) != "total":
            say(f"{m.group(2):<18} {int(m.group(1)) / 2000:6.2f} per message")
        if m and m.group(2) == "total":
            total = int(m.group(1))
    say(f"{'total':<18} {total / 2000:6.2f} per message")
    say("```")


def fsync_trace(fct):
    say("\n## The commit thread's sync calls, 1 client x 10 recipients, 1 KB (strace -T)")
    out = bench.WORK / "strace-T.txt"
    fct.reset()
    fct.start(wrap=["strace", "--seccomp-bpf", "-f", "-qq", "-T", "-ttt", "-e",
                    "trace=openat,fdatasync,fsync,rename,renameat,renameat2,write,close",
                    "-o", str(out)])
    secs = load(fct, 1, 200, 10, 1024)
    fct.stop()
    calls = {}
    for l in out.read_text(errors="replace").splitlines():
        m = re.match(r"\s*\d+\s+[\d.]+\s+(\w+)\((.*)<([\d.]+)>$", l)
        if m:
            c = calls.setdefault(m.group(1), [0, 0.0])
            c[0] += 1
            c[1] += float(m.group(3))
    say(f"\n200 messages in {secs:.2f} s under strace\n")
    say("```")
    for name, (n, t) in sorted(calls.items(), key=lambda kv: -kv[1][1]):
        say(f"{name:<10} {n / 200:6.2f} per message, {t / n * 1e6:8.1f} µs each, "
            f"{t / 200 * 1e3:7.3f} ms per message")
    say("```")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["callgrind", "perf", "syscalls", "fsync"])
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    try:
        bench.cleanup_stale()
        bench.build_tools()
        dns = bench.Dns(bench.WORK)
        sink = bench.Sink(bench.free_port())
        fct = bench.Facteur(bench.WORK / "facteur", dns.port, sink.port)
        fct.setup()
        fct.start()     # once without any tool: makes the self-signed certificate
        fct.stop()
        steps = {"callgrind": callgrind, "perf": perf, "syscalls": syscalls,
                 "fsync": fsync_trace}
        for name, fn in steps.items():
            if args.only in (None, name):
                fn(fct)
        (bench.WORK / "profile.md").write_text("\n".join(OUT) + "\n")
        if args.keep:
            print(f"\n(also in {bench.WORK / 'profile.md'})")
    except bench.BenchError as e:
        print(f"profile: {e}", file=sys.stderr)
        return 1
    finally:
        bench.PROCS.stop_all()
        bench.remove_old()
        if not args.keep:
            shutil.rmtree(bench.WORK, ignore_errors=True)
            try:
                bench.WORK_TOP.rmdir()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
