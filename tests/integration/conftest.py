"""Fixtures for facteur's integration tests.

Every test gets real `facteur` processes on loopback, each with its own
data_dir and config written from keyword arguments.  Nothing here mocks the
server: tests talk to it over real sockets with real clients (smtplib, raw
sockets, swaks, openssl).  No test sends a DNS query off the machine: every
config points [dns] resolver at a closed loopback port unless a test starts
its own dnsmasq.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

# Every server's [dns] resolver: a quiet dnsmasq on loopback (see the
# null_dns fixture), else a closed loopback port. Never the real DNS.
DEFAULT_RESOLVER = "127.0.0.1:9"

# How long a server may take to start: under valgrind, key generation
# alone takes seconds.
START_TIMEOUT = 120.0 if os.environ.get("FACTEUR_VALGRIND") else 10.0
BIN = os.environ.get("FACTEUR_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "facteur")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_on(*hosts):
    """A port free on every given address (for MX tests: one port, many
    loopback addresses, as port 25 would be)."""
    for _ in range(100):
        port = free_port(hosts[0])
        try:
            for h in hosts[1:]:
                family = socket.AF_INET6 if ":" in h else socket.AF_INET
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.bind((h, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no common free port")


def wait_port(host, port, timeout=10.0, proc=None):
    """Until something listens on host:port; returns early if proc (the
    server that should listen there) has exited."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port}")


class Facteur:
    """One facteur server: config, data_dir, process, helpers."""

    def __init__(self, root, name="facteur", domains=("example.test", "example.org"),
                 hostname="mail.example.test", listen=None, extra=None):
        self.root = Path(root) / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.root / "data"
        self.conf = self.root / "facteur.conf"
        self.log_path = self.root / "facteur.log"
        self.hostname = hostname
        self.domains = list(domains)
        self.ports = {}
        self.proc = None
        self.log_offset = 0
        listen = listen or {"smtp": "127.0.0.1"}
        self.listen = listen
        self.pick_ports()
        self.extra = extra or {}
        self.write_config()

    def pick_ports(self):
        """One free port per listener, all different: each socket stays
        bound until every port is chosen."""
        held = []
        try:
            for kind, host in self.listen.items():
                s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                  socket.SOCK_STREAM)
                held.append(s)
                s.bind((host, 0))
                self.ports[kind] = s.getsockname()[1]
        finally:
            for s in held:
                s.close()

    @property
    def port(self):
        return self.ports["smtp"]

    def addr(self, kind="smtp"):
        return (self.listen[kind], self.ports[kind])

    def write_config(self):
        sections = {
            "server": {
                "hostname": self.hostname,
                "domains": " ".join(self.domains),
                "data_dir": str(self.data_dir),
                "max_message_size": "1M",
                "log_level": "debug",
                # CI runs as root; test_privileges.py covers the drop.
                "run_as_root": "yes",
            },
            "listen": {},
            # Tests make many connections from 127.0.0.1 in a minute.
            "limits": {"connections_per_minute": "0"},
            "dns": {"resolver": DEFAULT_RESOLVER},
            # Tests send from loopback and check SPF/DKIM/DMARC on it.
            "checks": {"skip": ""},
        }
        for kind, host in self.listen.items():
            h = f"[{host}]" if ":" in host else host
            sections["listen"][kind] = f"{h}:{self.ports[kind]}"
        for key, value in self.extra.items():
            section, _, k = key.partition(".")
            sections.setdefault(section, {})[k] = value
        lines = []
        for section, kv in sections.items():
            lines.append(f"[{section}]")
            lines += [f"{k} = {v}" for k, v in kv.items()]
            lines.append("")
        self.conf.write_text("\n".join(lines))

    def cli(self, *args, input=None, check=True):
        r = subprocess.run([BIN, *args, "-c", str(self.conf)], input=input,
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"facteur {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def add_user(self, address, password="password123"):
        self.cli("user", "add", address, input=password + "\n")

    def set_aliases(self, text):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "aliases").write_text(text)

    def start(self, wait=True):
        # A port picked free may be taken by another process before we
        # bind it (a dnsmasq, a sink): then new ports, at most twice.
        for attempt in range(3):
            start = self.log_path.stat().st_size if self.log_path.exists() else 0
            self.spawn(wait)
            if self.proc.poll() is None:
                return self
            tail = self.log_path.read_text(errors="replace")[start:]
            if not wait or attempt == 2 or "cannot listen" not in tail:
                break
            self.pick_ports()
            self.write_config()
        if wait:
            raise RuntimeError(f"facteur exited at start (status {self.proc.returncode}); "
                               f"its log:\n{tail[-2000:]}")
        return self

    def spawn(self, wait):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not getattr(self, "spawned", False) and getattr(self, "shared_cert", True):
            copy_shared_cert(self.data_dir)
        self.spawned = True
        self.logf = open(self.log_path, "ab")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        cmd = [BIN, "serve", "-c", str(self.conf)]
        if os.environ.get("FACTEUR_VALGRIND"):
            # memcheck: every error and every definite leak fails the test
            # (see sanitizer_errors); one log per process start.
            self.valgrind_logs = getattr(self, "valgrind_logs", [])
            vlog = self.root / f"valgrind-{len(self.valgrind_logs)}.log"
            self.valgrind_logs.append(vlog)
            cmd = ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite",
                   "--errors-for-leak-kinds=definite", "--error-exitcode=99",
                   "--track-fds=no", f"--log-file={vlog}"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf, env=env)
        if wait:
            for kind in self.listen:
                wait_port(*self.addr(kind), timeout=START_TIMEOUT, proc=self.proc)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("facteur did not stop on SIGTERM")
        finally:
            self.logf.close()
            self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()
        self.proc = None

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log("event=reload")

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, pattern, timeout=10.0, since=0):
        end = time.time() + timeout
        while time.time() < end:
            text = self.log()[since:]
            m = re.search(pattern, text)
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"log never matched {pattern!r}:\n{self.log()[-3000:]}")

    def maildir(self, address):
        local, domain = address.split("@")
        return self.data_dir / "mail" / domain / local

    def messages(self, address, sub=("new", "cur")):
        out = []
        md = self.maildir(address)
        for s in sub:
            d = md / s
            if d.is_dir():
                out += sorted(d.iterdir())
        return out

    def wait_messages(self, address, count, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            msgs = self.messages(address)
            if len(msgs) >= count:
                return msgs
            time.sleep(0.05)
        raise AssertionError(f"{address} has {len(self.messages(address))} messages, want {count}")

    # The queue on disk (src/queue/queue_file.h, queue_tail.h): an entry
    # is <qid>.msg, a header line with the lengths of the envelope as
    # queued and of the message, that envelope, the message, then the
    # later envelopes as checked records; <qid>.env, once written, is the
    # envelope. Read here independently of the C code, as a cross-check.
    def queue_ids(self):
        return sorted(p.stem for p in (self.data_dir / "queue").glob("*.msg"))

    def queue_entry(self, qid):
        """(envelope text, message bytes) of a queue entry."""
        env, msg, _ = self.queue_entry_records(qid)
        return env, msg

    def queue_entry_records(self, qid):
        """(envelope text, message bytes, number of later envelopes
        appended to the .msg) of a queue entry. A pack (format 3) is read
        at the entry its index gives, and its records are those that
        name the entry."""
        import zlib
        q = self.data_dir / "queue"
        data = (q / f"{qid}.msg").read_bytes()
        head, rest = data.split(b"\n", 1)
        magic, version, length, msglen = head.split(b" ")
        assert (magic, len(length), len(msglen)) == (b"facteur-msg", 10, 20), head
        key, tail = None, None
        if version == b"3":
            index = rest[:int(length) * 38].split(b"\n")[:-1]
            [at] = [int(line[17:]) for line in index if line[:16] == qid.encode()]
            tail = data[int(msglen):]
            key = f"facteur-queue 1\nqid {qid}\n"
            head, rest = data[at:].split(b"\n", 1)
            magic, version, length, msglen = head.split(b" ")
        assert (magic, version, len(length), len(msglen)) == \
            (b"facteur-msg", b"2", 10, 20), head
        env = rest[:int(length)].decode()
        msg = rest[int(length):int(length) + int(msglen)]
        if tail is None:
            tail = rest[int(length) + int(msglen):]
        seq, mine = 0, 0
        while m := re.fullmatch(rb"facteur-env (\d{10}) (\d{10}) ([0-9a-f]{8})\n", tail[:43]):
            n, size, crc = int(m[1]), int(m[2]), int(m[3], 16)
            text = tail[43:43 + size]
            if n != seq + 1 or len(text) != size or \
                    zlib.crc32(text, zlib.crc32(tail[:34])) != crc:
                break
            seq, tail = n, tail[43 + size:]
            if key is None or text.decode().startswith(key):
                env, mine = text.decode(), mine + 1
        if (q / f"{qid}.env").exists():
            env = (q / f"{qid}.env").read_text()
        return env, msg, mine

    def sanitizer_errors(self):
        text = self.log()
        found = [m for m in SANITIZER_MARKERS if m in text]
        for vlog in getattr(self, "valgrind_logs", []):
            # --quiet: the log holds only errors and leak reports.
            if vlog.exists() and vlog.read_text(errors="replace").strip():
                found.append(f"valgrind: {vlog}")
        return found


@pytest.fixture(scope="session", autouse=True)
def null_dns(tmp_path_factory):
    """A dnsmasq that knows nothing and says so at once: servers whose test
    does not need DNS get quick NXDOMAIN/REFUSED answers (SPF none) rather
    than waiting for a dead resolver to time out."""
    global DEFAULT_RESOLVER
    import shutil
    if not shutil.which("dnsmasq"):
        yield None
        return
    d = DnsServer(tmp_path_factory.mktemp("nulldns"))
    DEFAULT_RESOLVER = d.resolver
    yield d
    d.stop()


@pytest.fixture
def make_facteur(tmp_path):
    """Factory: make_facteur(**kwargs) -> Facteur (not started)."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("name", f"facteur{len(made)}")
        f = Facteur(tmp_path, **kwargs)
        made.append(f)
        return f

    yield make
    problems = []
    for f in made:
        if f.proc is not None:
            try:
                f.stop()
            except AssertionError as e:
                problems.append(str(e))
        errs = f.sanitizer_errors()
        if errs:
            problems.append(f"{f.root}: sanitizer reported {errs}:\n{f.log()[-5000:]}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def server(make_facteur):
    """A started facteur with users alice@example.test, bob@example.test,
    aliases and a catch-all for example.org."""
    f = make_facteur()
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    f.set_aliases(
        "postmaster@example.test: alice@example.test\n"
        "team@example.test: alice@example.test, bob@example.test\n"
        "@example.org: bob@example.test\n")
    return f.start()


def sanitizer_build():
    """True when the binary under test has ASan (whose quarantine keeps
    freed memory: RSS bounds mean nothing there)."""
    with open(BIN, "rb") as binary:
        return b"__asan_init" in binary.read()


def rss_kb(f):
    with open(f"/proc/{f.proc.pid}/status") as st:
        return next(int(l.split()[1]) for l in st if l.startswith("VmRSS:"))


def flood_unread(sock, data, settle=1.0):
    """Sends data from a thread without reading any reply (the server may
    stop reading too), then waits settle seconds for the server to do
    what it will with it. Returns the thread, to join once the replies
    are being read."""
    sock.settimeout(120)	# for the whole sendall (Python 3.5+), slow builds too
    t = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    t.start()
    t.join(settle)
    time.sleep(settle)
    return t


def read_counting(sock, marker, n, timeout=60):
    """Reads from sock until marker was seen n times; returns how many
    times it was seen in all (more than n: replies to nothing)."""
    sock.settimeout(timeout)
    seen, tail = 0, b""
    while seen < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"closed after {seen} of {n}")
        data = tail + chunk
        seen += data.count(marker)
        tail = data[-(len(marker) - 1):]
    return seen


def assert_unread_replies_bounded(f, sock, command, marker, n=300_000):
    """Sends command n times and reads no reply meanwhile: the server's
    RSS must not grow by what n replies take (it stops reading commands
    once 64 KB of replies wait; not checked under ASan, whose quarantine
    keeps freed memory), and every command must be answered once the
    replies are read (marker ends each one)."""
    before = rss_kb(f)
    sender = flood_unread(sock, command * n)
    grown = rss_kb(f) - before
    if not sanitizer_build():
        assert grown < 16_000, f"RSS grew by {grown} kB"
    assert read_counting(sock, marker, n) == n
    sender.join(30)


class RawClient:
    """A raw SMTP client over a socket, for the cases smtplib won't send."""

    def __init__(self, host, port, timeout=10.0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """Reads one complete (possibly multi-line) reply: (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed; got {self.buf!r} {lines!r}")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server closed the connection (after any data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(server):
    """raw() -> a RawClient connected to the server's smtp listener,
    greeting already read."""
    clients = []

    def connect(kind="smtp", greet=True):
        c = RawClient(*server.addr(kind))
        clients.append(c)
        if greet:
            code, _ = c.reply()
            assert code == 220
        return c

    yield connect
    for c in clients:
        c.close()


def pytest_terminal_summary(terminalreporter):
    path = os.environ.get("FACTEUR_TEST_STATS")
    if not path:
        return
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    with open(path, "w") as f:
        f.write(f"passed={passed}\nfailed={failed}\n")


@pytest.fixture
def submission(make_facteur, dns_server):
    """A started facteur with smtp, submission and submissions listeners,
    a self-signed certificate, users alice and bob (password
    "password123"), and aliases. remote.test's MX (127.0.0.2:25) does not
    answer, so mail for it waits in the queue."""
    d = dns_server(mx=[("remote.test", "mx.remote.test", 10)], a=[("mx.remote.test", "127.0.0.2")])
    f = make_facteur(listen={"smtp": "127.0.0.1", "submission": "127.0.0.1",
                             "submissions": "127.0.0.1"},
                     extra={"auth.failure_delay": "200ms", "dns.resolver": d.resolver})
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    f.set_aliases(
        "postmaster@example.test: alice@example.test\n"
        "sales@example.test: alice@example.test\n"
        "team@example.test: alice@example.test, bob@example.test\n"
        "@example.org: bob@example.test\n")
    return f.start()


_SHARED_CERT = []


def copy_shared_cert(data_dir):
    """One self-signed pair for the whole run, put in a new data_dir before
    its first start: facteur makes one (RSA 2048) when tls/ has none,
    which cost every test's start 20-30 s under valgrind. Tests of that
    generation set `shared_cert = False` on their Facteur before starting
    it (or delete the files, as test_privileges.py does)."""
    import shutil
    import tempfile
    if not _SHARED_CERT:
        d = Path(tempfile.mkdtemp(prefix="facteur-test-cert-"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", str(d / "selfsigned.key"), "-out", str(d / "selfsigned.crt"),
                        "-subj", "/CN=mail.example.test", "-days", "3650"],
                       check=True, capture_output=True)
        _SHARED_CERT.append(d)
    tls = data_dir / "tls"
    if (tls / "selfsigned.key").exists() or (tls / "selfsigned.crt").exists():
        return
    tls.mkdir(mode=0o700, exist_ok=True)
    for name in ("selfsigned.key", "selfsigned.crt"):
        shutil.copy(_SHARED_CERT[0] / name, tls / name)
        os.chmod(tls / name, 0o600)


def client_tls_context():
    """A client context that accepts our self-signed test certificate."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsFinishedWithData:
    """A TLS client on a connected socket whose last handshake flight (its
    Finished) and first command leave in one write, so that the server
    reads both at once: what a busy server sees from a quick client. The
    handshake runs over memory BIOs to control that write."""

    def __init__(self, sock, first):
        import ssl
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = client_tls_context().wrap_bio(self.inc, self.out,
                                                 server_hostname="mail.example.test")
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self.tls.write(first)
        self._flush()           # Finished and first, one sendall

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed during TLS")
        self.inc.write(data)

    def send(self, data):
        self.tls.write(data)
        self._flush()

    def read_until(self, end):
        """Decrypted bytes up to and including the first `end`."""
        import ssl
        data = b""
        while end not in data:
            try:
                data += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._fill()
        return data


class DnsServer:
    """A real dnsmasq on 127.0.0.1, authoritative for .test, serving the
    records a test gives it: mx=[(domain, host, pref)], a=[(name, ip)],
    txt=[(name, text)], ptr=[(ip, name)], nxdomain=[domain]; ttl: the TTL
    of its answers (dnsmasq's default, 0, means nothing is cached)."""

    def __init__(self, root, mx=(), a=(), txt=(), ptr=(), nxdomain=(), ttl=0):
        import shutil
        if not shutil.which("dnsmasq"):
            pytest.skip("dnsmasq not installed (Debian package dnsmasq-base)")
        self.port = free_port()
        self.log = Path(root) / f"dnsmasq-{self.port}.log"
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--listen-address=127.0.0.1", f"--port={self.port}",
                "--bind-interfaces", "--local=/test/", "--local=/in-addr.arpa/",
                f"--log-facility={self.log}", "--log-queries", f"--local-ttl={ttl}"]
        if os.geteuid() == 0:
            args.append("--user=root")
        for domain, host, pref in mx:
            args.append(f"--mx-host={domain},{host},{pref}")
        for name, ip in a:
            args.append(f"--host-record={name},{ip}")
        for name, text in txt:
            args.append(f"--txt-record={name},{text}")
        for ip, name in ptr:
            args.append(f"--ptr-record={'.'.join(reversed(ip.split('.')))}.in-addr.arpa,{name}")
        for domain in nxdomain:
            args.append(f"--address=/{domain}/")
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
def dns_server(tmp_path):
    """dns_server(**records) -> a started DnsServer."""
    servers = []

    def start(**records):
        d = DnsServer(tmp_path, **records)
        servers.append(d)
        return d

    yield start
    for d in servers:
        d.stop()


class Sink:
    """A receiving SMTP server (aiosmtpd) on a loopback address. Replies
    can be scripted: rcpt_reply(address) -> None (accept) or "4xx text";
    data_reply -> None or "5xx text"."""

    def __init__(self, host, port, rcpt_reply=None, data_reply=None,
                 require_starttls=False, tls_context=None, authenticator=None,
                 data_delay=0):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP as Server
        self.messages = []
        self.attempts = []
        self.sessions = []
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                reply = rcpt_reply(address) if rcpt_reply else None
                sink.attempts.append(address)
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if data_delay:
                    import asyncio
                    await asyncio.sleep(data_delay)
                reply = data_reply() if callable(data_reply) else data_reply
                if reply:
                    return reply
                sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content, list(envelope.mail_options)))
                sink.sessions.append(session)
                return "250 OK queued"

        kwargs = {}
        if tls_context is not None:
            kwargs["tls_context"] = tls_context
            kwargs["require_starttls"] = require_starttls
        if authenticator is not None:
            kwargs["authenticator"] = authenticator
            kwargs["auth_require_tls"] = True
        else:
            kwargs["auth_require_tls"] = False
        self.controller = Controller(Handler(), hostname=host, port=port,
                                     decode_data=False, enable_SMTPUTF8=True, **kwargs)
        self.controller.start()

    def wait(self, count, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"sink got {len(self.messages)} messages, want {count}")

    def stop(self):
        """Idempotent: a test may stop a sink that the fixture stops too."""
        if not getattr(self, "stopped", False):
            self.stopped = True
            self.controller.stop()


@pytest.fixture
def sinks():
    made = []

    def start(host, port, **kw):
        s = Sink(host, port, **kw)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()
