#!/usr/bin/env python3
"""bench/bench.py - the side-by-side benchmark of facteur and Postfix
(issue 8). Run it through bench/run (or `make bench`), which installs the
packages and builds facteur first. docs/performance.md explains the method
and the results.

Everything lives under bench/work/perf/ (removed at exit unless --keep;
other tools of bench/ keep their own directories under bench/work/): a
dnsmasq on loopback (facteur's resolver: SPF/DMARC lookups of the sender
domain, the MX of the outbound test), facteur on its own data_dir, a
private Postfix instance (its own config_directory and queue_directory,
virtual(8) delivery to Maildir), smtp-sink. Every process started here is
stopped on exit, on error and on SIGINT/SIGTERM/SIGHUP.
"""
import argparse
import datetime
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK_TOP = ROOT / "bench" / "work"
WORK = WORK_TOP / "perf"
BIN = WORK / "bin"
FACTEUR = ROOT / "build" / "facteur"
DOMAIN = "bench.test"
SENDER = "bench@client.test"          # SPF/DMARC records served by our dnsmasq
RCPT = "u@" + DOMAIN                  # smtp-source -r N: Nu@..., ..., 2u@..., u@...
USERS = ["u"] + [f"{i}u" for i in range(2, 11)]
WARM_USER = "warm"
RUN_USER = "nobody"                   # both servers store mail as this user
FWD = "fwd@" + DOMAIN                 # facteur alias to the remote domain
REMOTE = "sink@remote.test"
PEER_FWD = "peer@" + DOMAIN           # facteur alias to a domain Postfix receives
PEER_RCPT = "sink@peer.test"
HELO = "client.test"
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
# Outbound connections to one destination: facteur's defaults and
# Postfix's alike start at 5 and open more while mail waits, up to 20
# ([delivery] initial_per_domain, max_per_domain). The direct runs of
# smtp-source use 4 and 20 and the better one is the peer's ceiling.
OUT_SESSIONS = (4, 20)

COMMANDS = {}                         # what was run, for RESULTS.md


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_greeting(port, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError(f"nothing greets on 127.0.0.1:{port}")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def proc_table():
    """pid -> ppid for every process."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2:].split()
        table[int(d)] = int(rest[1])
    return table


def descendants(root):
    table = proc_table()
    if root not in table:
        return []
    children = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid, tid=None):
    """Fields 3.. of /proc/PID/stat (after the command name), or of
    /proc/PID/task/TID/stat for one thread."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    try:
        with open(path, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def cpu_seconds(pids, reaper=None):
    """CPU time of these processes; with reaper, also what its children
    that already exited used (cutime + cstime): Postfix's master reaps
    the smtpd, cleanup and virtual processes that exit during a run."""
    t = 0
    for p in pids:
        f = stat_fields(p)
        if f is None:
            continue
        t += int(f[11]) + int(f[12])
        if p == reaper:
            t += int(f[13]) + int(f[14])
    return t / TICK


class Foreign:
    """CPU used by processes that are not part of the benchmark (other
    work on a shared machine): sampled at the start and end of each
    measured run, reported so that noisy numbers can be recognised."""

    def __init__(self):
        self.seconds = 0.0
        self.by_comm = {}
        self.last = None
        self.wall = 0.0
        self.t_last = None

    def _snapshot(self, ours):
        snap = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            if pid in ours:
                continue
            f = stat_fields(pid)
            if f is None or f[1] == b"2" or pid == 2:   # kernel threads
                continue
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                comm = "?"
            snap[pid] = (f[19], comm, (int(f[11]) + int(f[12])) / TICK)
        return snap

    def start(self, ours):
        self.last = self._snapshot(ours)
        self.t_last = time.time()

    def stop(self, ours):
        if self.last is None:
            return
        now = self._snapshot(ours)
        for pid, (start, comm, cpu) in now.items():
            old = self.last.get(pid)
            if old is None or old[0] != start:
                continue     # born during the run: mostly our own short-lived helpers
            d = cpu - old[2]
            if d > 0:
                self.seconds += d
                self.by_comm[comm] = self.by_comm.get(comm, 0) + d
        self.wall += time.time() - self.t_last
        self.last = None

    def summary(self):
        top = sorted(self.by_comm.items(), key=lambda kv: -kv[1])[:4]
        return self.seconds, self.wall, top


FOREIGN = Foreign()
SERVERS = []


def our_pids():
    ours = set(descendants(os.getpid()))
    for s in SERVERS:
        ours.update(s.pids())
    return ours


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except OSError:
        return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def thread_cpu_seconds(pid, tid):
    """User + system CPU seconds of one thread of a process."""
    f = stat_fields(pid, tid)
    return (int(f[11]) + int(f[12])) / TICK if f else 0.0


class CpuMeter:
    """CPU per message over a run: the sender's event loop (facteur's main
    thread), the sender's other threads (facteur's I/O and worker threads),
    and the peer process. Where the CPU goes says who limits the rate on a
    machine whose 2 cores the sender and the peer share."""
    def __init__(self, sender_pid, peer_pid):
        self.sender, self.peer = sender_pid, peer_pid
        self.t0 = self._now()

    def _now(self):
        return (thread_cpu_seconds(self.sender, self.sender),
                cpu_seconds([self.sender]), cpu_seconds([self.peer]))

    def per_message(self, n):
        loop1, all1, peer1 = self._now()
        loop0, all0, peer0 = self.t0
        us = lambda v: 1e6 * v / n
        return {"loop": us(loop1 - loop0), "threads": us((all1 - loop1) - (all0 - loop0)),
                "peer": us(peer1 - peer0)}


def run_smtp_source_cpu(cmd, peer_pid, n):
    """run_smtp_source(), and the CPU per message of smtp-source (a child
    of this process: its rusage) and of the peer."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peer0 = cpu_seconds([peer_pid])
    t0, t1 = run_smtp_source(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    src = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return t0, t1, {"loop": 1e6 * src / n, "threads": 0.0,
                    "peer": 1e6 * (cpu_seconds([peer_pid]) - peer0) / n}


class Sampler(threading.Thread):
    """Peak of the summed RSS (every 0.1 s) and PSS (every 0.5 s) of the
    processes pids_fn() returns."""

    def __init__(self, pids_fn):
        super().__init__(daemon=True)
        self.pids_fn = pids_fn
        self.stop_ev = threading.Event()
        self.peak_rss = self.peak_pss = self.peak_procs = 0

    def run(self):
        n = 0
        while not self.stop_ev.is_set():
            pids = self.pids_fn()
            self.peak_rss = max(self.peak_rss, sum(rss_kb(p) for p in pids))
            self.peak_procs = max(self.peak_procs, len(pids))
            if n % 5 == 0:
                self.peak_pss = max(self.peak_pss, sum(pss_kb(p) for p in pids))
            n += 1
            self.stop_ev.wait(0.1)

    def finish(self):
        self.stop_ev.set()
        self.join()


class Procs:
    """Every long-running child, stopped at exit whatever happens."""

    def __init__(self):
        self.items = []

    def add(self, name, stop_fn):
        self.items.append((name, stop_fn))

    def stop_all(self):
        while self.items:
            name, fn = self.items.pop()
            try:
                fn()
            except Exception as e:  # keep stopping the others
                print(f"bench: stopping {name}: {e}", file=sys.stderr)


PROCS = Procs()


def terminate(p, timeout=10):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cleanup_stale():
    """What an earlier run killed with SIGKILL may have left: its Postfix
    instance and any process whose working directory or command line is
    in bench/work/perf/ (nothing else of bench/work/ is touched)."""
    etc = WORK / "postfix" / "etc"
    if (etc / "main.cf").exists():
        subprocess.run(["postfix", "-c", str(etc), "stop"], capture_output=True)
        time.sleep(1)
        subprocess.run(["postfix", "-c", str(etc), "abort"], capture_output=True)
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            cwd = os.readlink(f"/proc/{d}/cwd")
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if (cwd == str(WORK) or cwd.startswith(str(WORK) + "/") or str(WORK) + "/" in cmd
                or "/dev/shm/facteur-bench-" in cmd):
            try:
                os.kill(int(d), signal.SIGKILL)
                log(f"killed a leftover process {d}: {cmd.replace(chr(0), ' ')[:80]}")
            except OSError:
                pass
    for d in Path("/dev/shm").glob("facteur-bench-*"):
        shutil.rmtree(d, ignore_errors=True)	# real_peer()'s tmpfs facteur
    if WORK.exists():
        # Deleted at the end of this run, not now: see maildir_reset().
        WORK.rename(WORK_TOP / f"perf.old-{os.getpid()}")


# When a run last deleted its trees (see maildir_reset() and wait_deleted()).
DELETED_STAMP = Path("/var/tmp/facteur-bench.deleted")
RECENTLY_DELETED_S = 300     # ext4's RECENTCY_DIRTY, fs/ext4/ialloc.c


def remove_old():
    for d in WORK_TOP.glob("perf.old-*"):
        shutil.rmtree(d, ignore_errors=True)


def wait_deleted():
    """A run that starts within five minutes of the mass deletion that
    ended the previous one creates its files among inodes ext4 still
    treats as recently deleted (see maildir_reset()), and its first
    workloads are measured up to twice slower, unevenly between the two
    servers. Waits out the rest of that window."""
    try:
        left = RECENTLY_DELETED_S - (time.time() - float(DELETED_STAMP.read_text()))
    except (OSError, ValueError):
        return
    if left > 0:
        log(f"waiting {left:.0f} s: the previous run deleted its files "
            f"{RECENTLY_DELETED_S - left:.0f} s ago (ext4's recently-deleted inodes)")
        time.sleep(left)


def build_tools():
    WORK.mkdir(parents=True)
    # Orlov allocator: the subdirectories of a "top" directory (chattr +T)
    # are spread over the file system's block groups, so facteur's files
    # and Postfix's spool do not share inode tables: without a journal,
    # ext4 makes every file creation scan the inodes freed in the last
    # minutes in its group, and Postfix frees one per message.
    subprocess.run(["chattr", "+T", str(WORK)], capture_output=True)
    BIN.mkdir()
    cmd = ["cc", "-std=c17", "-O2", "-Wall", "-Wextra", "-o", str(BIN / "smtpbench"),
           str(ROOT / "bench" / "smtpbench.c")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("building smtpbench: " + r.stderr)


TRASH_SEQ = [0]


def maildir_reset(base, users, owner, trash=None):
    """Fresh, empty new/ (and tmp/, cur/) for each user: every run starts
    with small directories, as a mailbox whose mail is read does. The old
    ones are moved to bench/work/perf/trash/, not deleted: on ext4,
    inodes freed in the last seconds are skipped (and each one checked)
    when new files are allocated, which slows every create that follows
    a mass deletion. The trash goes at exit. (trash: for a base on
    another file system, a directory on that one.)"""
    trash = trash or WORK / "trash"
    trash.mkdir(exist_ok=True)
    for u in users:
        md = base / u
        md.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("new", "tmp", "cur"):
            d = md / sub
            if d.exists():
                TRASH_SEQ[0] += 1
                d.rename(trash / str(TRASH_SEQ[0]))
            d.mkdir(mode=0o700)
            os.chown(d, owner.pw_uid, owner.pw_gid)
        os.chown(md, owner.pw_uid, owner.pw_gid)
        os.chmod(md, 0o700)


def count_files(dirs):
    n = 0
    for d in dirs:
        try:
            n += len(os.listdir(d))
        except FileNotFoundError:
            pass
    return n


def last_ctime(dirs):
    """When the last file appeared in these directories (rename and link
    both set the inode's ctime)."""
    t = 0
    for d in dirs:
        with os.scandir(d) as it:
            for e in it:
                t = max(t, e.stat(follow_symlinks=False).st_ctime_ns)
    return t / 1e9


class Dns:
    """dnsmasq on loopback, authoritative for .test: SPF and DMARC for the
    sender's domain (so facteur's inbound checks get real answers, cached
    by libunbound for their TTL), the MX of remote.test for the outbound
    test. Nothing is forwarded anywhere (--no-resolv)."""

    def __init__(self, root):
        self.port = free_port()
        self.log = root / "dnsmasq.log"
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                f"--port={self.port}", "--bind-interfaces", "--local=/test/",
                "--local=/in-addr.arpa/", "--local-ttl=300", "--user=root",
                f"--log-facility={self.log}",
                '--txt-record=client.test,"v=spf1 ip4:127.0.0.0/8 -all"',
                '--txt-record=_dmarc.client.test,"v=DMARC1; p=none"',
                "--mx-host=remote.test,mx.remote.test,10",
                "--mx-host=peer.test,mx.remote.test,10",
                "--host-record=mx.remote.test,127.0.0.1"]
        COMMANDS["dnsmasq"] = " ".join(args)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, cwd=WORK)
        PROCS.add("dnsmasq", lambda: terminate(self.proc))
        end = time.time() + 10
        while time.time() < end:
            if self.log.exists() and "started" in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise BenchError("dnsmasq failed: " + self.proc.stderr.read().decode())
            time.sleep(0.05)
        raise BenchError("dnsmasq did not start")


class Sink:
    def __init__(self, port):
        self.port = port
        self.proc = None
        PROCS.add("smtp-sink", self.stop)

    def start(self):
        if self.proc:
            return		# already up (a second one could not bind)
        args = [SMTP_SINK, "-u", RUN_USER, "-4", f"127.0.0.1:{self.port}", "1024"]
        COMMANDS["smtp-sink"] = " ".join(args)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=WORK)
        wait_greeting(self.port)

    def stop(self):
        if self.proc:
            terminate(self.proc)
            self.proc = None


class Facteur:
    name = "facteur"

    def __init__(self, root, dns_port, sink_port, trash=None):
        self.root = root
        self.trash = trash
        self.data = root / "data"
        self.port = free_port()
        self.dns_port = dns_port
        self.sink_port = sink_port
        self.proc = None
        self.logfile = None
        self.owner = pwd.getpwnam(RUN_USER)
        self.mail = self.data / "mail" / DOMAIN
        root.mkdir(parents=True)
        PROCS.add("facteur", self.stop)

    # Keys that only some versions of facteur know: dropped when
    # check-config calls them unknown. connections_per_minute: smtp-source
    # opens a connection per message, thousands a minute from 127.0.0.1
    # (Postfix's smtpd_client_connection_rate_limit is 0, no limit, by
    # default, and exempts mynetworks anyway).
    # [checks] skip: facteur skips SPF/DKIM/DMARC for loopback clients by
    # default (local scripts); the benchmark's client plays a remote MX,
    # so facteur checks every message as it would in production (Postfix,
    # as Debian ships it, checks nothing).
    OPTIONAL = {("limits", "connections_per_minute"): "1000000",
                ("checks", "skip"): ""}

    def conf(self, log_level, name=None, delivery_port=None):
        path = self.root / f"facteur-{name or log_level}.conf"
        optional = dict(self.OPTIONAL)
        for _ in range(len(self.OPTIONAL) + 1):
            extra = {}
            for (sec, key), val in optional.items():
                extra.setdefault(sec, "")
                extra[sec] += f"{key} = {val}\n"
            path.write_text(f"""; bench/bench.py: facteur for the benchmark
[server]
hostname = mx.{DOMAIN}
domains = {DOMAIN}
data_dir = {self.data}
log_level = {log_level}
user = {RUN_USER}

[listen]
smtp = 127.0.0.1:{self.port}

[limits]
max_connections = 20000
max_connections_per_ip = 20000
greeting_delay = 0
{extra.get("limits", "")}
[dns]
resolver = 127.0.0.1:{self.dns_port}

[delivery]
port = {delivery_port or self.sink_port}

[checks]
{extra.get("checks", "")}""")
            r = subprocess.run([str(FACTEUR), "check-config", "-c", str(path)],
                               capture_output=True, text=True)
            unknown = set(re.findall(r"unknown key '([^']+)' in \[([^\]]+)\]",
                                     r.stdout + r.stderr))
            drop = [k for k in optional if (k[1], k[0]) in unknown]
            if not drop:
                return path
            for k in drop:
                del optional[k]
        return path

    def setup(self):
        conf = self.conf("warn")
        self.data.mkdir(mode=0o700)
        os.chown(self.data, self.owner.pw_uid, self.owner.pw_gid)
        for u in USERS + [WARM_USER]:
            r = subprocess.run([str(FACTEUR), "user", "add", f"{u}@{DOMAIN}", "-c", str(conf)],
                               input="bench-password-123\n", text=True,
                               capture_output=True)
            if r.returncode != 0:
                raise BenchError(f"facteur user add {u}: {r.stderr.strip()}")
        (self.data / "aliases").write_text(f"{FWD}: {REMOTE}\n{PEER_FWD}: {PEER_RCPT}\n")
        os.chown(self.data / "aliases", self.owner.pw_uid, self.owner.pw_gid)
        self.conf("info")

    def start(self, log_level="warn", wrap=(), timeout=20.0, name=None):
        conf = self.root / f"facteur-{name or log_level}.conf"
        cmd = list(wrap) + [str(FACTEUR), "serve", "-c", str(conf)]
        COMMANDS.setdefault("facteur", " ".join([str(FACTEUR), "serve", "-c", str(conf)]))
        self.logfile = self.root / f"facteur-{int(time.time() * 1000)}.log"
        (self.data / "facteur.pid").unlink(missing_ok=True)
        with open(self.logfile, "w") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=WORK)
        self.server_pid = self.proc.pid
        try:
            if wrap:
                self.server_pid = self._find_pid(max(timeout, 30.0))
            wait_greeting(self.port, timeout)
        except BenchError as e:
            tail = self.logfile.read_text(errors="replace")[-2000:]
            raise BenchError(f"facteur did not start ({e}); its log ends with:\n{tail}")

    def _find_pid(self, timeout=10.0):
        pidfile = self.data / "facteur.pid"
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise BenchError(f"it exited with status {self.proc.returncode}")
            try:
                return int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        raise BenchError("facteur.pid not written")

    def stop(self):
        """Stops it; returns its log."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            os.kill(self.server_pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.server_pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        return self.logfile.read_text(errors="replace")

    def pids(self):
        return [self.server_pid] if self.proc is not None else []

    def reaper(self):
        return None

    def maildirs(self, users):
        return [self.mail / u / "new" for u in users]

    def reset(self):
        maildir_reset(self.mail, USERS + [WARM_USER], self.owner, self.trash)

    def queue_empty(self):
        # os.scandir reads the directory lazily and stops at the first
        # entry (Path.iterdir lists it all): polled every 20 ms, a full
        # listing of 6,000 files would take a fifth of a core.
        with os.scandir(self.data / "queue") as it:
            return not any(e.name.endswith(".msg") for e in it)

    def idle_fn(self):
        return True


class Postfix:
    """A private Postfix instance: its own config_directory, queue_directory
    and data_directory under bench/work/postfix, started with
    `postfix -c DIR start`. Durability settings are Debian's defaults."""
    name = "Postfix"

    def __init__(self, root, sink_port):
        self.root = root
        self.sink_port = sink_port
        self.etc = root / "etc"
        self.spool = root / "spool"
        self.datadir = root / "data"
        self.mailbase = root / "mail"
        self.mail = self.mailbase / DOMAIN
        self.port = free_port()
        self.owner = pwd.getpwnam(RUN_USER)
        self.running = False
        self.strace = None
        PROCS.add("postfix", self.stop)

    def setup(self):
        for d in (self.etc, self.spool, self.datadir, self.mailbase):
            d.mkdir(parents=True)
        pf = pwd.getpwnam("postfix")
        os.chown(self.datadir, pf.pw_uid, pf.pw_gid)
        os.chown(self.mailbase, self.owner.pw_uid, self.owner.pw_gid)
        boxes = ", ".join(f"{u}@{DOMAIN}={DOMAIN}/{u}/" for u in USERS + [WARM_USER])
        peer_box = PEER_RCPT.split("@")[1] + "/sink/"
        (self.etc / "main.cf").write_text(f"""# bench/bench.py: a private Postfix instance for the benchmark.
# Only what a loopback-only, virtual-mailbox setup needs is set; every
# durability-related parameter keeps its default.
compatibility_level = 3.6
config_directory = {self.etc}
meta_directory = /etc/postfix
queue_directory = {self.spool}
data_directory = {self.datadir}
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# facteur does no reverse DNS of clients either; and no DNS query may
# leave the machine (the system resolver is not ours).
smtpd_peername_lookup = no
# Deliver like facteur: Maildir files for users that are not system users.
virtual_mailbox_domains = {DOMAIN}, {PEER_RCPT.split("@")[1]}
virtual_mailbox_base = {self.mailbase}
virtual_mailbox_maps = inline:{{ {boxes}, {PEER_RCPT}={peer_box} }}
virtual_uid_maps = static:{self.owner.pw_uid}
virtual_gid_maps = static:{self.owner.pw_gid}
default_transport = error
relay_transport = error
# The outbound test: the alias of facteur's config, sent to the same
# smtp-sink (by address: Postfix cannot ask our dnsmasq for the MX, it
# uses the system resolver). Postfix's connection defaults are facteur's
# (5 per destination at first, up to 20 while mail waits); both reuse
# connections.
virtual_alias_maps = inline:{{ {FWD}={REMOTE} }}
transport_maps = inline:{{ remote.test=smtp:[127.0.0.1]:{self.sink_port} }}
""")
        # Debian's master.cf, with chroot off (this spool is no chroot jail)
        # and the smtp listener moved to our loopback port.
        out = []
        for line in Path("/etc/postfix/master.cf").read_text().splitlines():
            f = line.split()
            if line and not line[0].isspace() and not line.startswith("#") and len(f) >= 8:
                if f[0] == "smtp" and f[1] == "inet":
                    continue
                if f[4] == "y":
                    f[4] = "n"
                line = " ".join(f)
            out.append(line)
        out.append(f"127.0.0.1:{self.port} inet n - n - - smtpd")
        (self.etc / "master.cf").write_text("\n".join(out) + "\n")
        r = subprocess.run(["postfix", "-c", str(self.etc), "check"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError("postfix check: " + r.stdout + r.stderr)

    def master_pid(self):
        try:
            return int((self.spool / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, wrap=()):
        cmd = ["postfix", "-c", str(self.etc), "start"]
        COMMANDS.setdefault("postfix", " ".join(cmd))
        if wrap:
            # strace follows the master it forks and stays until it exits.
            self.strace = subprocess.Popen(list(wrap) + cmd, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, cwd=WORK)
        else:
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise BenchError("postfix start: " + r.stdout + r.stderr)
        self.running = True
        end = time.time() + 20
        while time.time() < end and not self.master_pid():
            time.sleep(0.05)
        wait_greeting(self.port)

    def stop(self):
        if not self.running:
            return ""
        pid = self.master_pid()
        procs = descendants(pid) if pid else []
        subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True)
        end = time.time() + 15
        while time.time() < end and any(pid_alive(p) for p in procs):
            time.sleep(0.05)
        if any(pid_alive(p) for p in procs):
            subprocess.run(["postfix", "-c", str(self.etc), "abort"], capture_output=True)
            time.sleep(0.5)
            for p in procs:
                if pid_alive(p):
                    os.kill(p, signal.SIGKILL)
        if self.strace:
            try:
                self.strace.wait(15)
            except subprocess.TimeoutExpired:
                self.strace.kill()
                self.strace.wait()
            self.strace = None
        self.running = False
        return ""

    def pids(self):
        pid = self.master_pid()
        return descendants(pid) if pid and self.running else []

    def reaper(self):
        return self.master_pid()

    def maildirs(self, users):
        return [self.mail / u / "new" for u in users]

    def reset(self):
        maildir_reset(self.mail, USERS + [WARM_USER], self.owner)

    def idle_fn(self):
        """No message anywhere in the queue (stops at the first file, as
        facteur's queue_empty() does)."""
        def any_file(path):
            try:
                with os.scandir(path) as it:
                    for e in it:
                        if e.is_dir(follow_symlinks=False):
                            if any_file(e.path):
                                return True
                        else:
                            return True
            except FileNotFoundError:
                pass
            return False
        return not any(any_file(self.spool / sub) for sub in
                       ("maildrop", "incoming", "active", "deferred", "hold"))


def smtp_source_cmd(port, clients, nmsg, rcpts, size, to=RCPT, extra=()):
    return [SMTP_SOURCE, *extra, "-s", str(clients), "-m", str(nmsg), "-r", str(rcpts),
            "-l", str(size), "-f", SENDER, "-t", to, "-M", HELO, f"127.0.0.1:{port}"]


def run_smtp_source(cmd, timeout=600):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    t1 = time.time()
    if r.returncode != 0:
        raise BenchError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[:500]}")
    return t0, t1


def wait_until(fn, timeout, what, interval=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return
        time.sleep(interval)
    raise BenchError(f"timed out waiting for {what}")


def settle(server):
    """Nothing in flight: the previous run's mail is all delivered."""
    wait_until(server.idle_fn, 120, f"{server.name} to empty its queue", 0.05)


def warm_up(server, clients):
    """A few messages at the same concurrency to another mailbox, so a
    measured run starts with the server's processes and caches warm."""
    cmd = smtp_source_cmd(server.port, clients, clients * 2, 1, 1024, to=f"{WARM_USER}@{DOMAIN}")
    run_smtp_source(cmd)
    dirs = server.maildirs([WARM_USER])
    wait_until(lambda: count_files(dirs) >= clients * 2, 120, "warm-up delivery")
    settle(server)


def measure(server, clients, nmsg, rcpts, size, sample=False):
    """One measured run: messages accepted per second (smtp-source wall
    time) and messages in Maildir per second (until the last file is in
    new/)."""
    server.reset()
    os.sync()
    warm_up(server, clients)
    sampler = None
    if sample:
        for pid in server.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM
            except OSError:
                pass
        sampler = Sampler(server.pids)
        sampler.start()
    cmd = smtp_source_cmd(server.port, clients, nmsg, rcpts, size)
    COMMANDS[f"smtp-source {server.name}"] = " ".join(cmd)
    users = USERS[:rcpts]
    dirs = server.maildirs(users)
    FOREIGN.start(our_pids())
    cpu0 = cpu_seconds(server.pids(), server.reaper())
    try:
        t0, t1 = run_smtp_source(cmd)
        want = nmsg * rcpts
        wait_until(lambda: count_files(dirs) >= want, 300, f"{want} files in Maildir")
        settle(server)
        cpu1 = cpu_seconds(server.pids(), server.reaper())
    finally:
        if sampler:
            sampler.finish()
        FOREIGN.stop(our_pids())
    n = count_files(dirs)
    if n != nmsg * rcpts:
        raise BenchError(f"{server.name}: {n} files in Maildir, expected {nmsg * rcpts}")
    t2 = last_ctime(dirs)
    res = {"accepted": nmsg / (t1 - t0), "maildir": nmsg / max(t2 - t0, 1e-6),
           "accept_s": t1 - t0, "maildir_s": t2 - t0,
           "cpu_us": (cpu1 - cpu0) / nmsg * 1e6}
    if sampler:
        res["rss_kb"] = sampler.peak_rss
        res["pss_kb"] = sampler.peak_pss
        res["procs"] = sampler.peak_procs
        if server.name == "facteur":
            res["hwm_kb"] = status_kb(server.server_pid, "VmHWM")
    settle(server)
    return res


def measure_sink(port, clients, nmsg, rcpts, size):
    cmd = smtp_source_cmd(port, clients, nmsg, rcpts, size)
    COMMANDS["smtp-source smtp-sink"] = " ".join(cmd)
    t0, t1 = run_smtp_source(cmd)
    return {"accepted": nmsg / (t1 - t0)}


def med(vals):
    return statistics.median(vals) if vals else float("nan")


# --------------------------------------------------------------------------

def machine_info():
    info = {}
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["nproc"] = os.cpu_count()
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info["cpu"] = cpu
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1])
    info["mem"] = f"{mem / 1024 / 1024:.1f} GiB"
    info["kernel"] = platform.release()
    try:
        info["os"] = [l.split("=", 1)[1].strip().strip('"') for l in
                      open("/etc/os-release") if l.startswith("PRETTY_NAME=")][0]
    except (OSError, IndexError):
        info["os"] = "?"
    fs = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE,OPTIONS", "-T", str(WORK)],
                        capture_output=True, text=True).stdout.strip()
    info["fs"] = fs
    dev = fs.split()[0].rsplit("/", 1)[-1] if fs else ""
    rot = Path(f"/sys/block/{dev}/queue/rotational")
    wc = Path(f"/sys/block/{dev}/queue/write_cache")
    journal = "?"
    if fs and fs.split()[1].startswith("ext"):
        jbd = Path("/proc/fs/jbd2")
        journal = "yes" if jbd.exists() and any(d.startswith(dev) for d in os.listdir(jbd)) \
            else "none (ext4 without a journal)"
    info["disk"] = (f"{dev}: rotational={rot.read_text().strip() if rot.exists() else '?'}, "
                    f"write_cache={wc.read_text().strip() if wc.exists() else '?'}, "
                    f"journal: {journal}")
    info["postfix"] = subprocess.run(["postconf", "-h", "mail_version"], capture_output=True,
                                     text=True).stdout.strip()
    info["facteur"] = subprocess.run([str(FACTEUR), "--version"], capture_output=True,
                                     text=True).stdout.strip()
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    info["rev"] = rev + (" (src/ modified)" if dirty else "")
    return info


def fsync_probe(n=300):
    """What one durable small file costs on this disk: write 1 KB,
    fdatasync, rename, fsync the directory."""
    d = WORK / "trash" / "probe"
    d.mkdir(parents=True)
    buf = b"x" * 1024
    t0 = time.perf_counter()
    for i in range(n):
        fd = os.open(d / f"t{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, buf)
        os.fdatasync(fd)
        os.close(fd)
    t1 = time.perf_counter()
    for i in range(n):
        os.rename(d / f"t{i}", d / f"n{i}")
        dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(dfd)
        os.close(dfd)
    t2 = time.perf_counter()
    return {"fdatasync_ms": (t1 - t0) / n * 1000, "dir_fsync_ms": (t2 - t1) / n * 1000}


# --------------------------------------------------------------------------

def plan(smoke):
    """(size, clients, rcpts) -> messages per run. Sized so that the slower
    server needs a second or more at every point."""
    if smoke:
        return {(1024, 1, 1): 40, (1024, 10, 1): 100}, 1
    counts = {
        (1024, 1, 1): 2000, (1024, 10, 1): 5000, (1024, 100, 1): 8000,
        (1024, 1, 10): 500, (1024, 10, 10): 1000, (1024, 100, 10): 2000,
        (102400, 1, 1): 1000, (102400, 10, 1): 2500, (102400, 100, 1): 3000,
        (102400, 1, 10): 200, (102400, 10, 10): 400, (102400, 100, 10): 600,
    }
    return counts, 3


def throughput(servers, sink_port, smoke):
    counts, reps = plan(smoke)
    results = {}
    for (size, clients, rcpts), nmsg in counts.items():
        key = (size, clients, rcpts)
        results[key] = {"n": nmsg, "sink": []}
        for s in servers:
            results[key][s.name] = []
        for rep in range(reps):
            order = servers if rep % 2 == 0 else list(reversed(servers))
            for s in order:
                r = measure(s, clients, nmsg, rcpts, size, sample=(clients == 100))
                results[key][s.name].append(r)
            results[key]["sink"].append(measure_sink(sink_port, clients, nmsg, rcpts, size))
        f, p = results[key]["facteur"], results[key]["Postfix"]
        log(f"{size // 1024:>4} KB x{rcpts:<2} rcpt {clients:>3} clients, {nmsg} msgs: "
            f"accepted/s facteur {med([x['accepted'] for x in f]):.0f} "
            f"Postfix {med([x['accepted'] for x in p]):.0f}; "
            f"in Maildir/s facteur {med([x['maildir'] for x in f]):.0f} "
            f"Postfix {med([x['maildir'] for x in p]):.0f}; "
            f"smtp-sink {med([x['accepted'] for x in results[key]['sink']]):.0f}")
    return results


def latency(servers, smoke):
    plan_ = {10: 100, 100: 300} if smoke else {10: 1500, 100: 3000}
    reps = 1 if smoke else 3
    out = {}
    for clients, nmsg in plan_.items():
        out[clients] = {s.name: [] for s in servers}
        for rep in range(reps):
            order = servers if rep % 2 == 0 else list(reversed(servers))
            for s in order:
                s.reset()
                os.sync()
                warm_up(s, clients)
                cmd = [str(BIN / "smtpbench"), "lat", f"127.0.0.1:{s.port}", "-s", str(clients),
                       "-m", str(nmsg), "-r", "1", "-l", "1024", "-f", SENDER, "-t", RCPT]
                COMMANDS[f"smtpbench lat {s.name}"] = " ".join(cmd)
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                if r.returncode != 0:
                    raise BenchError(f"smtpbench lat: {r.stdout} {r.stderr}")
                res = json.loads(r.stdout)
                out[clients][s.name].append(res)
                dirs = s.maildirs(["u"])
                wait_until(lambda: count_files(dirs) >= nmsg, 300, "latency run delivery")
                settle(s)
        log(f"latency at {clients} clients: " + "; ".join(
            f"{n} tx p50 {med([x['tx_p50'] for x in v]):.2f} ms p99 {med([x['tx_p99'] for x in v]):.2f} ms, "
            f"session p99 {med([x['conn_p99'] for x in v]):.2f} ms"
            for n, v in out[clients].items()))
    return out


def idle_sessions(server, n, binds, wait_s):
    base_rss, base_pss = (sum(rss_kb(p) for p in server.pids()),
                          sum(pss_kb(p) for p in server.pids()))
    cmd = [str(BIN / "smtpbench"), "idle", f"127.0.0.1:{server.port}", "-n", str(n),
           "-w", str(wait_s)] + (["-b", binds] if binds else [])
    COMMANDS[f"smtpbench idle {server.name}"] = " ".join(cmd)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=WORK)
    PROCS.add("smtpbench idle", lambda: terminate(p))
    try:
        line = p.stdout.readline()
        res = json.loads(line)
        time.sleep(1.0)     # let the server settle with all sessions open
        pids = server.pids()
        res["rss_kb"] = sum(rss_kb(x) for x in pids)
        res["pss_kb"] = sum(pss_kb(x) for x in pids)
        res["procs"] = len(pids)
        res["base_rss_kb"], res["base_pss_kb"] = base_rss, base_pss
    finally:
        p.stdin.close()
        p.wait(30)
    time.sleep(1.0)
    return res


STRACE = ["strace", "--seccomp-bpf", "-f", "-qq", "-ttt", "-e",
          "trace=fsync,fdatasync,syncfs,sync_file_range,msync"]


def count_syncs(trace, t0, t1):
    """Calls to the traced sync functions that started in [t0, t1]: the
    count of those that wait for the disk, and every call by name. A
    sync_file_range without a WAIT flag only starts writeback (facteur's
    durable_start(), a hint before the fdatasync): listed, not counted."""
    n, calls = 0, {}
    with open(trace, errors="replace") as f:
        for line in f:
            m = re.match(r"\s*\d+\s+(\d+\.\d+)\s+(\w+)\(([^)]*)", line)
            if not m:
                continue
            t = float(m.group(1))
            if t0 <= t <= t1:
                name = m.group(2)
                if name == "sync_file_range" and "WAIT" not in m.group(3):
                    name = "sync_file_range WRITE (not counted)"
                else:
                    n += 1
                calls[name] = calls.get(name, 0) + 1
    return n, calls


def fsync_counts(fct, pfx, smoke):
    """fsync calls per delivered message, strace'd short runs of each
    server (strace --seccomp-bpf stops only on the traced calls)."""
    cases = [(1, 1, 100 if smoke else 300), (100, 1, 300 if smoke else 2000),
             (100, 10, 50 if smoke else 300)]
    out = {"facteur": {}, "Postfix": {}}
    # facteur: one traced instance per case, so its stop counters are per case.
    fct.stop()
    for clients, rcpts, nmsg in cases:
        trace = WORK / f"strace-facteur-{clients}-{rcpts}.txt"
        fct.reset()
        fct.start("info", wrap=STRACE + ["-o", str(trace)])
        t0 = time.time()
        cmd = smtp_source_cmd(fct.port, clients, nmsg, rcpts, 1024)
        run_smtp_source(cmd)
        t1 = time.time()
        logtext = fct.stop()
        n, calls = count_syncs(trace, t0, t1)
        m = re.search(r"event=stop .*batches=(\d+) messages=(\d+) fsyncs=(\d+)", logtext)
        out["facteur"][(clients, rcpts)] = {
            "n": nmsg, "calls": n, "by_call": calls,
            "stop": {"batches": int(m.group(1)), "messages": int(m.group(2)),
                     "fsyncs": int(m.group(3))} if m else None}
    COMMANDS["strace facteur"] = " ".join(STRACE + ["-o", "TRACE", str(FACTEUR), "serve", "-c", "..."])
    fct.start()
    # Postfix: one traced instance for all cases, calls counted by time.
    pfx.stop()
    trace = WORK / "strace-postfix.txt"
    pfx.start(wrap=STRACE + ["-o", str(trace)])
    COMMANDS["strace Postfix"] = " ".join(STRACE + ["-o", "TRACE", "postfix", "-c", str(pfx.etc), "start"])
    for clients, rcpts, nmsg in cases:
        pfx.reset()
        warm_up(pfx, clients)
        t0 = time.time()
        run_smtp_source(smtp_source_cmd(pfx.port, clients, nmsg, rcpts, 1024))
        dirs = pfx.maildirs(USERS[:rcpts])
        wait_until(lambda: count_files(dirs) >= nmsg * rcpts, 300, "Postfix delivery")
        settle(pfx)
        t1 = time.time()
        n, calls = count_syncs(trace, t0, t1)
        out["Postfix"][(clients, rcpts)] = {"n": nmsg, "calls": n, "by_call": calls}
    pfx.stop()
    pfx.start()
    for name, cs in out.items():
        for (c, r), v in cs.items():
            log(f"fsync-type calls per message, {name}, {c} clients x{r} rcpt: "
                f"{v['calls'] / v['n']:.2f} {v['by_call']}")
    return out


def postfix_drain(pfx, sink, n):
    """Postfix's drain, as facteur's: n messages queued while the sink is
    down (each tried once: deferred), then the sink started and the queue
    flushed (`postqueue -f`); time until the queue is empty."""
    def deferred():
        return sum(len(f) for _, _, f in os.walk(pfx.spool / "deferred"))
    sink.stop()
    run_smtp_source(smtp_source_cmd(pfx.port, 10, n, 1, 1024, to=FWD))
    wait_until(lambda: deferred() >= n, 300, "Postfix to defer every message", 0.5)
    sink.start()
    cmd = ["postqueue", "-c", str(pfx.etc), "-f"]
    COMMANDS["postqueue flush"] = " ".join(cmd)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("postqueue -f: " + r.stderr)
    wait_until(pfx.idle_fn, 600, "Postfix's queue to empty", 0.02)
    return n / (time.time() - t0)


def facteur_drain(fct, conf, n, queue_cmd, peer_down, peer_up, cpu=None):
    """facteur's drain: n messages queued with queue_cmd while the peer is
    down (each tried once: deferred), then peer_up() and the queue flushed
    (`facteur queue flush`); msgs/s until the queue is empty. The peer is
    left up. With cpu = (list, function giving the peer's pid), the CPU per
    message (CpuMeter) is appended to the list."""
    cli = [str(FACTEUR), "queue"]

    def all_tried():
        r = subprocess.run(cli + ["list", "-c", conf], capture_output=True, text=True)
        return len(re.findall(r"\(attempts [1-9]", r.stdout)) >= n
    peer_down()
    run_smtp_source(queue_cmd)
    wait_until(all_tried, 300, "every queued message to be tried once", 0.5)
    peer_up()
    flush = cli + ["flush", "-c", conf]
    COMMANDS["facteur queue flush"] = " ".join(flush)
    meter = CpuMeter(fct.server_pid, cpu[1]()) if cpu is not None else None
    t0 = time.time()
    r = subprocess.run(flush, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("facteur queue flush: " + r.stderr)
    wait_until(fct.queue_empty, 600, "facteur's queue to empty", 0.02)
    rate = n / (time.time() - t0)
    if meter:
        cpu[0].append(meter.per_message(n))
    return rate


def best_sessions(runs):
    """The connection count whose direct runs have the best median:
    runs = {count: [msgs/s, ...]}."""
    return max(OUT_SESSIONS, key=lambda s: med(runs[s]))


def outbound(fct, pfx, sink, smoke, fct_shm=None):
    """facteur delivering to smtp-sink through the MX of remote.test (served
    by dnsmasq), versus Postfix's drain to the same sink and smtp-source
    straight to it. With fct_shm (a facteur whose data_dir is on tmpfs),
    its drain too: the same code without this disk's cost of deleting a
    file."""
    n = 100 if smoke else 3000
    # Drains are longer: their fixed costs (the flush command, the first
    # connections, the last removals, the 20 ms poll) then weigh little.
    nd = 300 if smoke else 10000
    res = {"n": n, "n_drain": nd}
    conf = str(fct.root / "facteur-warn.conf")
    fct.reset()

    # 1. Relay through: the sink is up; messages accepted for the alias
    #    and delivered at once. Time until the queue is empty.
    sink.start()
    cmd = smtp_source_cmd(fct.port, 10, n, 1, 1024, to=FWD)
    COMMANDS["smtp-source outbound"] = " ".join(cmd)
    t0 = time.time()
    run_smtp_source(cmd)
    t1 = time.time()
    wait_until(fct.queue_empty, 600, "facteur's queue to empty", 0.02)
    t2 = time.time()
    res["live_accept"] = n / (t1 - t0)
    res["live"] = n / (t2 - t0)
    # 2. Drain: the same number queued while the sink is down (every entry
    #    deferred once), then the sink is started and the queue flushed;
    #    in turn with Postfix's drain of the same (twice each).
    drains, pdrains, dcpu, tdrains, tcpu = [], [], [], [], []
    cmd = smtp_source_cmd(fct.port, 10, nd, 1, 1024, to=FWD)
    for _ in range(1 if smoke else 2):
        drains.append(facteur_drain(fct, conf, nd, cmd, sink.stop, sink.start,
                                    cpu=(dcpu, lambda: sink.proc.pid)))
        pdrains.append(postfix_drain(pfx, sink, nd))
        if fct_shm:
            tdrains.append(facteur_drain(
                fct_shm, str(fct_shm.root / "facteur-warn.conf"), nd,
                smtp_source_cmd(fct_shm.port, 10, nd, 1, 1024, to=FWD),
                sink.stop, sink.start, cpu=(tcpu, lambda: sink.proc.pid)))
    res["drains"], res["postfix_drains"] = drains, pdrains
    res["drain"], res["postfix_drain"] = med(drains), med(pdrains)
    if tdrains:
        res["tmpfs_drains"], res["tmpfs_drain"] = tdrains, med(tdrains)
    sink.start()
    # 3. The ceiling: smtp-source to smtp-sink, reusing connections (-d)
    #    as facteur does, with 4 and with 20 connections (facteur's
    #    window goes from 5 to 20 on a drain); the better median counts.
    direct, scpu = {s: [] for s in OUT_SESSIONS}, {s: [] for s in OUT_SESSIONS}
    for _ in range(1 if smoke else 3):
        for s in OUT_SESSIONS:
            cmd = smtp_source_cmd(sink.port, s, nd, 1, 1024, extra=("-d",))
            COMMANDS[f"smtp-source direct to smtp-sink, {s} connections"] = " ".join(cmd)
            t0, t1, c = run_smtp_source_cpu(cmd, sink.proc.pid, nd)
            direct[s].append(nd / (t1 - t0))
            scpu[s].append(c)
    best = best_sessions(direct)
    res["direct_by_sessions"] = {s: med(v) for s, v in direct.items()}
    res["direct"], res["direct_sessions"] = res["direct_by_sessions"][best], best
    scpu = scpu[best]
    res["cpu"] = {who: {k: med([x[k] for x in runs]) for k in ("loop", "threads", "peer")}
                  for who, runs in (("facteur", dcpu), ("smtp-source", scpu),
                                    ("facteur on tmpfs", tcpu)) if runs}
    sink.stop()
    log(f"outbound: relay-through {res['live']:.0f} msg/s, drain {res['drain']:.0f} msg/s "
        f"(Postfix {res['postfix_drain']:.0f}), smtp-source -> smtp-sink {res['direct']:.0f} msg/s")
    return res


def real_peer(fct, pfx, smoke, label="same disk"):
    """The drain of outbound(), to a peer that does what a receiving MTA
    does: Postfix, whose smtpd and cleanup fsync each message before the
    250, reached through the MX of peer.test. facteur is "limited by the
    peer" when its drain to it matches smtp-source's best rate to it (4
    or 20 connections, reused)."""
    n = 100 if smoke else 2000
    conf = str(fct.conf("warn", name="peer", delivery_port=pfx.port))
    COMMANDS[f"facteur, peer test ({label})"] = \
        f"{FACTEUR} serve -c {conf}  ([delivery] port = Postfix's)"
    fct.stop()
    fct.reset()
    fct.start(name="peer")
    res = {"n": n, "label": label, "facteur": [], "direct_by": {s: [] for s in OUT_SESSIONS}}
    cpu = []        # facteur's own CPU per message in each drain

    def peer_up():
        pfx.start()
        # Its smtpd processes up, as many as smtp-source's connections
        # below find warm (spawned by this drain and still idle then):
        # warmed for 4 only, facteur's drain paid the start of 16 more
        # smtpd processes that the direct run did not.
        warm_up(pfx, max(OUT_SESSIONS))
    queue_cmd = smtp_source_cmd(fct.port, 10, n, 1, 1024, to=PEER_FWD)
    try:
        for _ in range(1 if smoke else 2):
            res["facteur"].append(facteur_drain(fct, conf, n, queue_cmd, pfx.stop, peer_up,
                                                cpu=(cpu, lambda: fct.server_pid)))
            wait_until(pfx.idle_fn, 300, "Postfix to deliver what it received")
            for s in OUT_SESSIONS:
                cmd = smtp_source_cmd(pfx.port, s, n, 1, 1024, to=PEER_RCPT, extra=("-d",))
                COMMANDS[f"smtp-source direct to Postfix, {s} connections"] = " ".join(cmd)
                t0, t1 = run_smtp_source(cmd)
                res["direct_by"][s].append(n / (t1 - t0))
                wait_until(pfx.idle_fn, 300, "Postfix to deliver what it received")
    finally:
        fct.stop()
        fct.start()
    best = best_sessions(res["direct_by"])
    res["direct"], res["direct_sessions"] = res["direct_by"][best], best
    res["drain"], res["direct_med"] = med(res["facteur"]), med(res["direct"])
    # Who limits the rate: facteur's CPU per message (event loop and
    # threads) times its rate, as a share of the machine's cores.
    res["cpu_us"] = med([c["loop"] + c["threads"] for c in cpu])
    res["cpu_share"] = res["cpu_us"] * res["drain"] / 1e6 / (os.cpu_count() or 1)
    log(f"outbound to Postfix as the peer ({label}): facteur drain {res['drain']:.0f} msg/s, "
        f"smtp-source -> Postfix {res['direct_med']:.0f} msg/s, facteur's CPU "
        f"{res['cpu_us']:.0f} us/msg ({100 * res['cpu_share']:.1f}% of the machine)")
    return res


# --------------------------------------------------------------------------

def fmt(v, digits=0):
    if v is None or v != v:
        return "-"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def write_results(path, info, probe, thr, mem, idle, fs, lat, outb, elapsed, smoke):
    L = []
    w = L.append
    w("# Benchmark results: facteur and Postfix, side by side")
    w("")
    w(f"Written by `bench/run`{' --smoke' if smoke else ''} (`make bench`) on {info['date']}, "
      f"in {elapsed / 60:.1f} minutes. Method, analysis and recommendations: "
      "[docs/performance.md](../docs/performance.md). Ratios are facteur / Postfix; "
      "both servers ran alternately in the same run, each number is the median of "
      f"{plan(smoke)[1]} runs.")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| CPU | {info['nproc']} × {info['cpu']} |")
    w(f"| Memory | {info['mem']} |")
    w(f"| Disk, file system | {info['disk']}; `{info['fs']}` "
      "(without a journal, ext4 slows file creation for minutes after many deletions: "
      "see docs/performance.md) |")
    w(f"| One durable 1 KB file (this disk) | write + fdatasync {probe['fdatasync_ms']:.3f} ms, "
      f"rename + directory fsync {probe['dir_fsync_ms']:.3f} ms |")
    w(f"| Kernel, OS | {info['kernel']}, {info['os']} |")
    w(f"| facteur | {info['facteur']}, git {info['rev']}, `make` (-O2) |")
    w(f"| Postfix | {info['postfix']} (Debian package) |")
    fsec, fwall, ftop = FOREIGN.summary()
    if fwall:
        w(f"| Other work on the machine during the measured runs | {fsec:.1f} CPU-seconds in "
          f"{fwall:.0f} s of runs ({fsec / fwall / info['nproc'] * 100:.1f}% of the "
          f"{info['nproc']} CPUs){': ' + ', '.join(f'{c} {t:.1f} s' for c, t in ftop) if ftop else ''} |")
    w("")
    w("## Throughput")
    w("")
    w("Messages per second. *accepted*: messages / wall time of `smtp-source` (each "
      "message on its own connection, as smtp-source does by default). *in Maildir*: "
      "messages / time until the last copy is in a Maildir `new/` directory. "
      "*smtp-sink*: the same load against `smtp-sink`, which writes nothing: the ceiling "
      "of the client and the loopback.")
    w("")
    w("| size | rcpts | clients | msgs/run | facteur accepted | Postfix accepted | ratio "
      "| facteur in Maildir | Postfix in Maildir | ratio | smtp-sink |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (size, clients, rcpts), r in thr.items():
        fa = med([x["accepted"] for x in r["facteur"]])
        pa = med([x["accepted"] for x in r["Postfix"]])
        fm = med([x["maildir"] for x in r["facteur"]])
        pm = med([x["maildir"] for x in r["Postfix"]])
        sk = med([x["accepted"] for x in r["sink"]])
        w(f"| {size // 1024} KB | {rcpts} | {clients} | {r['n']} | {fmt(fa)} | {fmt(pa)} | "
          f"**{ratio(fa, pa)}** | {fmt(fm)} | {fmt(pm)} | **{ratio(fm, pm)}** | {fmt(sk)} |")
    w("")
    w("CPU time per message, in microseconds (all the server's processes and threads, "
      "user + system, from `/proc/PID/stat`; Postfix's includes the processes its master "
      "reaped during the run; the kernel's own writeback and journal threads are in "
      "neither):")
    w("")
    w("| size | rcpts | clients | facteur CPU/msg | Postfix CPU/msg | Postfix / facteur |")
    w("|---:|---:|---:|---:|---:|---:|")
    for (size, clients, rcpts), r in thr.items():
        fc = med([x["cpu_us"] for x in r["facteur"]])
        pc = med([x["cpu_us"] for x in r["Postfix"]])
        w(f"| {size // 1024} KB | {rcpts} | {clients} | {fmt(fc)} µs | {fmt(pc)} µs | "
          f"{pc / fc:.1f}x |" if fc else f"| {size // 1024} KB | {rcpts} | {clients} | - | - | - |")
    w("")
    w("<details><summary>Every run (accepted/s, in Maildir/s)</summary>")
    w("")
    w("| size | rcpts | clients | facteur | Postfix | smtp-sink |")
    w("|---:|---:|---:|---|---|---|")
    for (size, clients, rcpts), r in thr.items():
        f = ", ".join(f"{x['accepted']:.0f}/{x['maildir']:.0f}" for x in r["facteur"])
        p = ", ".join(f"{x['accepted']:.0f}/{x['maildir']:.0f}" for x in r["Postfix"])
        s = ", ".join(f"{x['accepted']:.0f}" for x in r["sink"])
        w(f"| {size // 1024} KB | {rcpts} | {clients} | {f} | {p} | {s} |")
    w("")
    w("</details>")
    w("")
    if mem:
        w("## Memory at 100 clients")
        w("")
        w("Peak during the 100-client runs, sampled from `/proc` every 0.1 s (PSS every "
          "0.5 s). Postfix: the sum over all its processes (master and every child); RSS "
          "counts shared library pages once per process, PSS divides them among the "
          "processes that share them. facteur: one process; VmHWM is the kernel's exact "
          "peak (reset before each run).")
        w("")
        w("| workload | facteur peak RSS | facteur VmHWM | facteur peak PSS | Postfix peak "
          "RSS (sum) | Postfix peak PSS (sum) | Postfix processes | RSS ratio |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        for (size, rcpts), m in mem.items():
            f, p = m["facteur"], m["Postfix"]
            w(f"| {size // 1024} KB × {rcpts} rcpt | {f['rss_kb'] / 1024:.1f} MB | "
              f"{f['hwm_kb'] / 1024:.1f} MB | {f['pss_kb'] / 1024:.1f} MB | "
              f"{p['rss_kb'] / 1024:.1f} MB | {p['pss_kb'] / 1024:.1f} MB | {p['procs']} | "
              f"1/{p['rss_kb'] / max(f['rss_kb'], 1):.0f} |")
        w("")
    if idle:
        w("## Idle sessions")
        w("")
        w("Connections opened by `smtpbench idle` (bench/smtpbench.c), each waiting after "
          "the server's `220`; memory read 1 s after the last greeting.")
        w("")
        w("| server | asked | greeted | RSS before | RSS with the sessions | PSS with the "
          "sessions | per greeted session |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in idle.items():
            per = (r["rss_kb"] - r["base_rss_kb"]) / max(r["greeted"], 1)
            w(f"| {name} | {r['asked']:,} | {r['greeted']:,} | {r['base_rss_kb'] / 1024:.1f} MB | "
              f"{r['rss_kb'] / 1024:.1f} MB | {r['pss_kb'] / 1024:.1f} MB | {per:.1f} KB |")
        w("")
        if "Postfix" in idle:
            w("Postfix greets at most `default_process_limit` = 100 sessions at once (one "
              "`smtpd` process each); the other connections wait in the listen queue "
              "without a greeting. Its default was kept.")
            w("")
    if fs:
        w("## fsync per message")
        w("")
        w("`strace --seccomp-bpf -f -e trace=fsync,fdatasync,syncfs,sync_file_range,msync` on "
          "short runs of 1 KB messages (calls made while the run was in flight, Postfix "
          "until its last delivery). Counted: the calls that wait for the disk; a "
          "`sync_file_range(SYNC_FILE_RANGE_WRITE)` only starts a file's writeback before "
          "its `fdatasync` (facteur's commit thread), so it is listed but not counted. "
          "facteur's own counters come from its `event=stop` log line.")
        w("")
        w("| clients × rcpts | msgs | facteur calls/msg | facteur `fsyncs/messages`, "
          "`messages/batches` (stop line) | Postfix calls/msg |")
        w("|---|---:|---:|---|---:|")
        for key in fs["facteur"]:
            f, p = fs["facteur"][key], fs["Postfix"][key]
            st = f["stop"]
            stop = (f"{st['fsyncs'] / st['messages']:.2f}, {st['messages'] / st['batches']:.1f} "
                    f"msgs/batch" if st and st["messages"] else "-")
            w(f"| {key[0]} × {key[1]} | {f['n']} | {f['calls'] / f['n']:.2f} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(f['by_call'].items()))}) | {stop} | "
              f"{p['calls'] / p['n']:.2f} ({', '.join(f'{k} {v}' for k, v in sorted(p['by_call'].items()))}) |")
        w("")
    if lat:
        w("## Latency of one transaction")
        w("")
        w("`smtpbench lat` (bench/smtpbench.c): closed loop, one connection per message like "
          "smtp-source, 1 KB, 1 recipient, no pipelining. *tx*: from sending `MAIL FROM` to "
          "receiving the `250` after the final dot (for facteur this includes the durable "
          "commit of the Maildir file; for Postfix the fsync of its queue file, delivery "
          "comes later). *session*: from `connect()` to that `250`, which also counts the wait "
          "for a free `smtpd` process at Postfix (100 at most). Milliseconds, median over the "
          "runs of each run's percentile.")
        w("")
        w("| clients | server | tx p50 | tx p99 | session p50 | session p99 | msgs/s |")
        w("|---:|---|---:|---:|---:|---:|---:|")
        for clients, v in lat.items():
            for name, runs in v.items():
                w(f"| {clients} | {name} | {med([x['tx_p50'] for x in runs]):.2f} | "
                  f"{med([x['tx_p99'] for x in runs]):.2f} | "
                  f"{med([x['conn_p50'] for x in runs]):.2f} | "
                  f"{med([x['conn_p99'] for x in runs]):.2f} | "
                  f"{med([x['count'] / x['elapsed'] for x in runs]):,.0f} |")
        w("")
    if outb:
        w("## Outbound")
        w("")
        w(f"{outb['n']} messages of 1 KB for `{FWD}`, an alias of `{REMOTE}`; the MX of "
          "remote.test (dnsmasq) points to an `smtp-sink` on 127.0.0.1. facteur keeps its "
          "delivery defaults (5 connections at first, one more per window's worth of "
          "deliveries while mail waits, up to 20; connections reused; PIPELINING).")
        w("")
        w("| measure | msgs/s |")
        w("|---|---:|")
        w(f"| facteur relay-through: smtp-source (10 clients) → facteur → smtp-sink, until "
          f"the queue is empty | {fmt(outb['live'])} |")
        w(f"| (of which accepting them) | {fmt(outb['live_accept'])} |")
        nd = outb.get("n_drain", outb["n"])
        w(f"| facteur drain: {nd} messages already queued (each deferred once), "
          f"`facteur queue flush`, until the queue is empty | {fmt(outb['drain'])} |")
        by = outb.get("direct_by_sessions", {})
        for s in sorted(by):
            w(f"| smtp-source -s {s} -d -m {nd} → smtp-sink directly | {fmt(by[s])} |")
        w(f"| direct: the better of those (the peer's ceiling) | {fmt(outb['direct'])} |")
        w(f"| facteur drain / direct | **{outb['drain'] / outb['direct']:.2f}** |")
        if outb.get("tmpfs_drain"):
            w(f"| facteur drain, its data_dir on tmpfs (the same code without this disk's "
              f"cost of deleting a file) | {fmt(outb['tmpfs_drain'])} |")
            w(f"| facteur drain on tmpfs / direct | "
              f"**{outb['tmpfs_drain'] / outb['direct']:.2f}** |")
        if outb.get("postfix_drain"):
            w(f"| Postfix drain: the same, queued while the sink was down, `postqueue -f`, "
              f"until its queue is empty (its default connections, to the sink by address) | "
              f"{fmt(outb['postfix_drain'])} |")
            w(f"| facteur drain / Postfix drain | **{outb['drain'] / outb['postfix_drain']:.2f}** |")
        w("")
        w("Drains are medians of " + str(len(outb.get("drains", [1]))) + " (facteur: " +
          ", ".join(fmt(x) for x in outb.get("drains", [])) + "; Postfix: " +
          ", ".join(fmt(x) for x in outb.get("postfix_drains", [])) +
          ("; facteur on tmpfs: " + ", ".join(fmt(x) for x in outb["tmpfs_drains"])
           if outb.get("tmpfs_drains") else "") + "), run in turn.")
        w("")
        cpu = outb.get("cpu")
        if cpu:
            f, s = cpu["facteur"], cpu["smtp-source"]
            w("Where the CPU goes, in µs per message (medians; from `/proc/<pid>/task/*/stat` "
              "and smtp-source's rusage). The sender and the sink share the machine's "
              f"{os.cpu_count()} cores, so the sum of the three sets the rate:")
            w("")
            w("| sender | its event loop (SMTP client; facteur also reads the queued "
              "message) | its other threads (facteur: removing delivered entries) | "
              "smtp-sink | total |")
            w("|---|---:|---:|---:|---:|")
            rows = [("facteur drain", f), ("facteur drain, data_dir on tmpfs",
                                            cpu.get("facteur on tmpfs")),
                    (f"smtp-source -s {outb.get('direct_sessions', 4)} -d", s)]
            for name, c in rows:
                if c:
                    w(f"| {name} | {c['loop']:.0f} | {c['threads']:.0f} | {c['peer']:.0f} | "
                      f"{c['loop'] + c['threads'] + c['peer']:.0f} |")
            w("")
        prs = outb.get("peers")
        if prs:
            pr = prs[0]
            w(f"To a peer that writes what it accepts: {pr['n']} messages for "
              f"`{PEER_FWD}`, an alias of `{PEER_RCPT}`, whose MX is this Postfix "
              "(its `smtpd` and `cleanup` fsync each message before `250`); "
              "facteur's drain (`facteur queue flush`, until its queue is empty) "
              "against the better of `smtp-source -s 4 -d` and `-s 20 -d` straight to the "
              "same Postfix. On one "
              "machine the two servers share the disk; with facteur's data_dir on "
              "tmpfs, Postfix has the disk to itself, as a real peer would.")
            w("")
            w("| facteur's data_dir | facteur drain → Postfix | smtp-source → Postfix | ratio | "
              "facteur's CPU per message (share of the machine during its drain) | "
              "runs (facteur; direct) |")
            w("|---|---:|---:|---:|---:|---|")
            for pr in prs:
                cpu = (f"{pr['cpu_us']:.0f} µs ({100 * pr['cpu_share']:.1f}%)"
                       if pr.get("cpu_us") else "-")
                w(f"| {pr['label']} | {fmt(pr['drain'])} | {fmt(pr['direct_med'])} "
                  f"(-s {pr.get('direct_sessions', 4)}) | "
                  f"**{pr['drain'] / pr['direct_med']:.2f}** | {cpu} | "
                  + ", ".join(fmt(x) for x in pr["facteur"]) + "; "
                  + ", ".join(fmt(x) for x in pr["direct"]) + " |")
            w("")
            w("Before each drain Postfix is warmed with as many connections as the direct "
              "run uses (20), whose smtpd processes the direct runs find idle. What is left "
              "of the machine while facteur drains is Postfix's (its smtpd, cleanup, qmgr "
              "and virtual, about 1 ms of CPU per message) and the kernel's; the ratio "
              "moves by ±0.1 between runs of the same code.")
            w("")
    w("## Targets (issue 8)")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    for t, m, ok in targets(thr, mem, idle, outb):
        w(f"| {t} | {m} | {'yes' if ok else '**no**'} |")
    w("")
    w("## Commands")
    w("")
    w("Ports are picked free at each run. `smtp-source` and `smtp-sink` are Postfix's "
      "(`/usr/sbin`); the same command line is used for both servers, only the port "
      "differs. `-s` clients, `-m` messages, `-r` recipients, `-l` body bytes.")
    w("")
    w("```")
    for k, v in COMMANDS.items():
        w(f"# {k}")
        w(v)
    w("```")
    w("")
    w("facteur's configuration (`log_level = info` for the strace runs, to get the stop "
      "counters):")
    w("")
    w("```ini")
    w(CONFIGS.get("facteur", "").strip())
    w("```")
    w("")
    w("Postfix's `main.cf` (its `master.cf` is Debian's with `chroot` off and the `smtp` "
      "service on the loopback port):")
    w("")
    w("```")
    w(CONFIGS.get("postfix", "").strip())
    w("```")
    w("")
    path.write_text("\n".join(L))


CONFIGS = {}


def targets(thr, mem, idle, outb):
    out = []

    def get(size, clients, rcpts, what, name):
        r = thr.get((size, clients, rcpts))
        return med([x[what] for x in r[name]]) if r else None

    for clients, want in ((100, 3), (1, 2)):
        for what, label in (("accepted", "accepted"), ("maildir", "in Maildir")):
            f, p = get(1024, clients, 1, what, "facteur"), get(1024, clients, 1, what, "Postfix")
            if f and p:
                out.append((f"durable msgs/s {label}, 1 KB, {clients} client{'s' if clients > 1 else ''}: "
                            f"≥ {want}× Postfix", f"{f / p:.2f}×", f / p >= want))
    if mem:
        worst = max(m["facteur"]["rss_kb"] / max(m["Postfix"]["rss_kb"], 1) for m in mem.values())
        worst_pss = max(m["facteur"]["pss_kb"] / max(m["Postfix"]["pss_kb"], 1) for m in mem.values())
        out.append(("peak RSS at 100 clients ≤ 1/20 of Postfix's (sum over its processes)",
                    f"worst workload 1/{1 / worst:.0f} (counted as PSS instead: 1/{1 / worst_pss:.0f})",
                    worst <= 1 / 20))
    if idle and "facteur" in idle:
        r = idle["facteur"]
        out.append((f"{r['asked']:,} idle sessions in < 200 MB",
                    f"{r['greeted']:,} greeted, {r['rss_kb'] / 1024:.0f} MB",
                    r["greeted"] == r["asked"] and r["rss_kb"] < 200 * 1024))
    if outb:
        q = outb["drain"] / outb["direct"]
        out.append(("outbound limited by the peer, not by facteur",
                    f"drain {outb['drain']:.0f} msg/s = {q:.2f} of smtp-source → smtp-sink",
                    q >= 0.8))
        if outb.get("tmpfs_drain"):
            q = outb["tmpfs_drain"] / outb["direct"]
            out.append(("the same, facteur's data_dir on tmpfs (without this disk's "
                        "synchronous discard per deleted file)",
                        f"drain {outb['tmpfs_drain']:.0f} msg/s = {q:.2f} of smtp-source "
                        "→ smtp-sink", q >= 0.8))
        for pr in outb.get("peers", []):
            q = pr["drain"] / pr["direct_med"]
            share = (f"; facteur used {100 * pr['cpu_share']:.1f}% of the machine"
                     if pr.get("cpu_share") else "")
            out.append((f"the same to a real peer (Postfix receiving; {pr['label']})",
                        f"drain {pr['drain']:.0f} msg/s = {q:.2f} of smtp-source → Postfix"
                        + share, q >= 0.8))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="a tiny run (< 1 minute)")
    ap.add_argument("--keep", action="store_true", help="keep bench/work/ afterwards")
    ap.add_argument("--out", help="where to write the results (default: bench/RESULTS.md, "
                    "nowhere with --smoke)")
    args = ap.parse_args()
    start = time.time()

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
    except (ValueError, OSError):
        pass

    try:
        cleanup_stale()
        if not args.smoke:
            wait_deleted()
        build_tools()
        info = machine_info()
        probe = fsync_probe()
        log(f"fsync probe: fdatasync {probe['fdatasync_ms']:.3f} ms, "
            f"dir fsync {probe['dir_fsync_ms']:.3f} ms")
        dns = Dns(WORK)
        sink = Sink(free_port())
        fct = Facteur(WORK / "facteur", dns.port, sink.port)
        fct.setup()
        CONFIGS["facteur"] = (fct.root / "facteur-warn.conf").read_text()
        pfx = Postfix(WORK / "postfix", sink.port)
        pfx.setup()
        CONFIGS["postfix"] = (pfx.etc / "main.cf").read_text()
        fct.start()
        pfx.start()
        fct.reset()
        pfx.reset()
        servers = [fct, pfx]
        SERVERS.extend(servers)
        log(f"facteur on 127.0.0.1:{fct.port}, Postfix on 127.0.0.1:{pfx.port}, "
            f"dnsmasq on {dns.port}")

        # the no-disk ceiling runs all along, in turn with the servers
        sink.start()
        thr = throughput(servers, sink.port, args.smoke)
        sink.stop()
        mem = {}
        for (size, clients, rcpts), r in thr.items():
            if clients == 100:
                mem[(size, rcpts)] = {
                    "facteur": {k: max(x[k] for x in r["facteur"]) for k in
                                ("rss_kb", "pss_kb", "hwm_kb")},
                    "Postfix": {k: max(x[k] for x in r["Postfix"]) for k in
                                ("rss_kb", "pss_kb", "procs")}}
        lat = latency(servers, args.smoke)

        n_idle = 500 if args.smoke else 10000
        idle = {}
        binds = ",".join(f"127.0.0.{i}" for i in range(1, 5))
        r = idle_sessions(fct, n_idle, binds, 10 if args.smoke else 30)
        r["asked"] = n_idle
        idle["facteur"] = r
        r = idle_sessions(pfx, n_idle, None, 3 if args.smoke else 5)
        r["asked"] = n_idle
        idle["Postfix"] = r
        log("idle: " + "; ".join(f"{k}: {v['greeted']} greeted, {v['rss_kb'] / 1024:.1f} MB RSS"
                                  for k, v in idle.items()))

        fs = fsync_counts(fct, pfx, args.smoke)
        # A second facteur whose data_dir is on tmpfs: the same code
        # without this disk. On one machine the two servers share the disk
        # (facteur's unlinks and discards slow Postfix's fsyncs); a real
        # peer has a disk of its own.
        shm = Path("/dev/shm") / f"facteur-bench-{os.getpid()}"
        PROCS.add("tmpfs facteur", lambda: shutil.rmtree(shm, ignore_errors=True))
        shm.mkdir(mode=0o755)
        fct_shm = Facteur(shm / "facteur", dns.port, sink.port, trash=shm / "trash")
        fct_shm.setup()
        fct_shm.start()
        outb = outbound(fct, pfx, sink, args.smoke, fct_shm)
        outb["peers"] = [real_peer(fct, pfx, args.smoke)]
        outb["peers"].append(real_peer(fct_shm, pfx, args.smoke,
                                       "facteur's data_dir on tmpfs"))
        fct_shm.stop()

        elapsed = time.time() - start
        out = Path(args.out) if args.out else (None if args.smoke else ROOT / "bench" / "RESULTS.md")
        if out is None:
            out = WORK / "RESULTS-smoke.md"
        write_results(out, info, probe, thr, mem, idle, fs, lat, outb, elapsed, args.smoke)
        # The same numbers, machine-readable, beside the report.
        raw = {"info": info, "probe": probe, "idle": idle, "outbound": outb,
               "throughput": {"%s/%s/%s" % k: v for k, v in thr.items()},
               "memory": {"%s/%s" % k: v for k, v in mem.items()},
               "fsync": fs, "latency": lat, "elapsed_s": elapsed}
        def plain(v):
            if isinstance(v, dict):
                return {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): plain(x)
                        for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            return v
        out.with_suffix(".json").write_text(json.dumps(plain(raw), indent=1, default=str) + "\n")
        if args.smoke and not args.out:
            print(out.read_text())
        else:
            log(f"results in {out}")
        log(f"done in {elapsed / 60:.1f} minutes")
        return 0
    except KeyboardInterrupt as e:
        print(f"bench: interrupted ({e})", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        PROCS.stop_all()
        remove_old()
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
        try:
            DELETED_STAMP.write_text(f"{time.time():.0f}\n")
        except OSError:
            pass
        if not args.keep:
            try:
                WORK_TOP.rmdir()    # only if no other tool uses it
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
