"""`facteur setup` (issue 10), always into a temporary --root: what it
creates, that a second run changes nothing and says so, that it never
overwrites a file the user edited, the systemd unit it installs, and the
DNS records it ends with."""
import hashlib
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from conftest import BIN
from test_doctor import find, parse_zone, public_p, tags

DOMAIN = "example.com"
HOST = "mail.example.com"
PW = "a-long-password"
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "facteur.service"
HARDENING = [
    "Type=simple",
    "ExecStart=/usr/local/sbin/facteur serve -c /etc/facteur/facteur.conf",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "NoNewPrivileges=yes",
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_CHOWN "
    "CAP_DAC_READ_SEARCH",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/facteur",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectControlGroups=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures=native",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "RestrictRealtime=yes",
    "LimitNOFILE=65536",
]


def run_setup(root, *args, input=PW + "\n", check=True):
    r = subprocess.run([BIN, "setup", DOMAIN, "--root", str(root), *args], input=input,
                       capture_output=True, text=True, timeout=120)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def steps(out):
    """The report lines: {word: [text]} for created/ok/kept/... lines."""
    found = {}
    for line in out.splitlines():
        m = re.match(r"(created|updated|ok|kept|skipped|todo): (.*)", line)
        if m:
            found.setdefault(m.group(1), []).append(m.group(2))
    return found


def tree(root):
    """Every path below root: mode, and for files size, mtime, digest."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        entry = (st.st_mode, st.st_uid)
        if p.is_file():
            entry += (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        out[str(p.relative_to(root))] = entry
    return out


DATA = Path("var/lib/facteur")
CONF = Path("etc/facteur/facteur.conf")
UNIT = Path("etc/systemd/system/facteur.service")


def test_setup_creates_everything(tmp_path):
    r = run_setup(tmp_path, "--ip", "203.0.113.25")
    s = steps(r.stdout)
    created = "\n".join(s["created"])
    for what in (f"config {tmp_path / CONF}", f"data directory {tmp_path / DATA}",
                 "DKIM rsa-sha256 key", "DKIM ed25519-sha256 key",
                 f"mailbox user postmaster@{DOMAIN}", f"alias abuse@{DOMAIN} -> postmaster@",
                 "self-signed certificate", f"systemd unit {tmp_path / UNIT}"):
        assert what in created, r.stdout
    # No system user below a root; postmaster is the mailbox itself.
    assert any(l.startswith("system user facteur: --root given") for l in s["skipped"])
    assert f"postmaster@{DOMAIN} delivered already" in s["ok"]
    # Modes: data_dir and keys private, config and unit readable.
    data = tmp_path / DATA
    assert (data.stat().st_mode & 0o777) == 0o700
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o755
    assert ((tmp_path / CONF).stat().st_mode & 0o777) == 0o644
    keys = sorted((data / "dkim" / DOMAIN).glob("*.key"))
    assert [re.sub(r"\d{6}", "YYYYMM", k.name) for k in keys] == \
        ["edYYYYMM.ed25519.key", "rsaYYYYMM.rsa.key"]
    assert all((k.stat().st_mode & 0o777) == 0o600 for k in keys)
    assert (data / "users").read_text().startswith(f"postmaster@{DOMAIN}:$y$")
    assert (data / "aliases").read_text() == f"abuse@{DOMAIN}: postmaster@{DOMAIN}\n"
    assert (data / "mail" / DOMAIN / "postmaster" / "new").is_dir()
    assert (data / "tls" / "selfsigned.crt").exists()
    # The password came from stdin: it is not printed.
    assert PW not in r.stdout and "its password" not in r.stdout
    # The config names the system's paths, not the root's.
    conf = (tmp_path / CONF).read_text()
    for line in (f"hostname = {HOST}", f"domains = {DOMAIN}", "data_dir = /var/lib/facteur",
                 "user = facteur", "smtp = 0.0.0.0:25 [::]:25", "pop3s = 0.0.0.0:995 [::]:995",
                 ";cert = /etc/facteur/tls/fullchain.pem"):
        assert re.search(rf"^{re.escape(line)}\b", conf, re.M), (line, conf)
    assert str(tmp_path) not in conf


def test_setup_twice_changes_nothing(tmp_path):
    run_setup(tmp_path, "--ip", "203.0.113.25")
    before = tree(tmp_path)
    r = run_setup(tmp_path, "--ip", "203.0.113.25", input="another-password\n")
    s = steps(r.stdout)
    assert set(s) <= {"ok", "skipped", "todo"}, r.stdout
    assert len(s["ok"]) == 10, r.stdout               # with the certbot hook
    for what in ("config", "data directory", "DKIM rsa-sha256 key", "DKIM ed25519-sha256 key",
                 "mailbox user", f"abuse@{DOMAIN} delivered already", "self-signed certificate",
                 "systemd unit"):
        assert any(what in l for l in s["ok"]), (what, r.stdout)
    assert tree(tmp_path) == before


def test_setup_keeps_an_edited_config_and_unit(tmp_path):
    run_setup(tmp_path)
    conf, unit = tmp_path / CONF, tmp_path / UNIT
    conf.write_text(conf.read_text().replace("log_level = info", "log_level = debug"))
    unit.write_text(unit.read_text() + "# my change\n")
    before = tree(tmp_path)
    r = run_setup(tmp_path)
    s = steps(r.stdout)
    assert "created" not in s and "updated" not in s, r.stdout
    assert any(l.startswith(f"config {conf}: it differs") for l in s["kept"]), r.stdout
    assert any(l.startswith(f"systemd unit {unit}: it differs") for l in s["kept"]), r.stdout
    assert tree(tmp_path) == before


def test_setup_follows_the_edited_config(tmp_path):
    """A kept config is the one the later steps follow."""
    run_setup(tmp_path, input="")
    conf = tmp_path / CONF
    conf.write_text(conf.read_text().replace("data_dir = /var/lib/facteur",
                                             "data_dir = /srv/mail"))
    r = run_setup(tmp_path, input="")
    assert (tmp_path / "srv/mail/dkim" / DOMAIN).is_dir(), r.stdout
    assert (tmp_path / "srv/mail/users").exists()
    assert "ReadWritePaths=/var/lib/facteur" in (tmp_path / UNIT).read_text()


def test_setup_second_domain_needs_the_config(tmp_path):
    """The config is the user's once written: another domain must be added
    to it by hand, and setup stops before making anything for it."""
    run_setup(tmp_path)
    r = subprocess.run([BIN, "setup", "example.org", "--root", str(tmp_path)], input="",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "does not list example.org: add it to [server] domains" in r.stderr
    assert not (tmp_path / DATA / "dkim" / "example.org").exists()
    conf = tmp_path / CONF
    conf.write_text(conf.read_text().replace(f"domains = {DOMAIN} ",
                                             f"domains = {DOMAIN} example.org "))
    r = subprocess.run([BIN, "setup", "example.org", "--root", str(tmp_path)], input="",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / DATA / "users").read_text().count("postmaster@") == 2
    assert "kept: config" in r.stdout


def test_setup_switches_to_certbot_certificate(tmp_path):
    run_setup(tmp_path)
    live = tmp_path / "etc/letsencrypt/live" / HOST
    live.mkdir(parents=True)
    shutil.copy(tmp_path / DATA / "tls/selfsigned.crt", live / "fullchain.pem")
    shutil.copy(tmp_path / DATA / "tls/selfsigned.key", live / "privkey.pem")
    r = run_setup(tmp_path)
    s = steps(r.stdout)
    assert f"config {tmp_path / CONF}" in s["updated"], r.stdout
    # certbot keeps privkey.pem root-only: facteur, once it has dropped
    # root, reads the copies the deploy hook keeps in /etc/facteur/tls.
    tls = tmp_path / "etc/facteur/tls"
    assert (tls / "fullchain.pem").read_bytes() == (live / "fullchain.pem").read_bytes()
    assert (tls / "privkey.pem").stat().st_mode & 0o777 == 0o600
    hook = tmp_path / "etc/letsencrypt/renewal-hooks/deploy/facteur"
    assert hook.stat().st_mode & 0o111 and "RENEWED_LINEAGE" in hook.read_text()
    conf = (tmp_path / CONF).read_text()
    assert "\ncert = /etc/facteur/tls/fullchain.pem\n" in conf
    assert "\nkey = /etc/facteur/tls/privkey.pem\n" in conf
    assert "get a certificate" not in r.stdout
    before = tree(tmp_path)
    assert set(steps(run_setup(tmp_path).stdout)) <= {"ok", "skipped", "todo"}
    assert tree(tmp_path) == before


def test_setup_generates_a_password_once(tmp_path):
    r = run_setup(tmp_path, "--user", f"Me@{DOMAIN.upper()}", "--hostname", "MX.example.com",
              input="")
    m = re.search(r"its password: (\S+)", r.stdout)
    assert m, r.stdout
    password = m.group(1)
    assert re.fullmatch(r"([a-z2-9]{5}-){3}[a-z2-9]{5}", password)
    users = (tmp_path / DATA / "users").read_text()
    assert users.startswith(f"me@{DOMAIN}:$y$")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            crypt = None
    if crypt is not None:
        h = users.split(":", 1)[1].strip()
        assert crypt.crypt(password, h) == h
    assert (tmp_path / DATA / "aliases").read_text() == (
        f"postmaster@{DOMAIN}: me@{DOMAIN}\nabuse@{DOMAIN}: me@{DOMAIN}\n")
    assert "hostname = mx.example.com " in (tmp_path / CONF).read_text()
    again = run_setup(tmp_path, "--user", f"me@{DOMAIN}", "--hostname", "mx.example.com", input="")
    assert "its password" not in again.stdout
    assert f"mailbox user me@{DOMAIN} already" in steps(again.stdout)["ok"]


def test_setup_refuses_bad_input(tmp_path):
    r = run_setup(tmp_path, input="short\n", check=False)
    assert r.returncode == 1 and "needs 8 to" in r.stderr
    r = subprocess.run([BIN, "setup", "--root", str(tmp_path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "usage: facteur setup" in r.stderr
    r = subprocess.run([BIN, "setup", DOMAIN, "--root", str(tmp_path), "-c", "rel.conf"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    r = subprocess.run([BIN, "setup", "not_a_domain", "--root", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2


def test_setup_installs_the_hardened_unit(tmp_path):
    run_setup(tmp_path)
    unit = (tmp_path / UNIT).read_text()
    assert unit == CONTRIB.read_text()
    lines = unit.splitlines()
    for want in HARDENING:
        assert want in lines, want
    assert not any(l.startswith("AmbientCapabilities") for l in lines)
    if not shutil.which("systemd-analyze"):
        return
    # verify wants the binary to exist: point the copy at ours.
    copy = tmp_path / "facteur.service"
    copy.write_text(unit.replace("/usr/local/sbin/facteur", BIN))
    r = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_setup_with_another_config_path(tmp_path):
    run_setup(tmp_path, "-c", "/etc/mail/facteur.conf")
    assert (tmp_path / "etc/mail/facteur.conf").exists()
    unit = (tmp_path / UNIT).read_text()
    assert "ExecStart=/usr/local/sbin/facteur serve -c /etc/mail/facteur.conf" in unit


def test_setup_config_loads_and_ends_with_the_dns_records(tmp_path):
    r = run_setup(tmp_path, "--ip", "203.0.113.25")
    # The config as written, with data_dir moved below the root, passes
    # check-config; `facteur dns` on it prints what setup printed.
    conf = tmp_path / "check.conf"
    conf.write_text((tmp_path / CONF).read_text().replace(
        "data_dir = /var/lib/facteur", f"data_dir = {tmp_path / DATA}"))
    c = subprocess.run([BIN, "check-config", "-c", str(conf)], capture_output=True, text=True,
                       timeout=30)
    assert c.returncode == 0, c.stdout + c.stderr
    d = subprocess.run([BIN, "dns", DOMAIN, "--ip", "203.0.113.25", "-c", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert d.returncode == 0, d.stderr
    start = r.stdout.index(f"; ---- {DOMAIN}")
    assert r.stdout[start:] == d.stdout
    z = parse_zone(d.stdout)
    assert find(z, DOMAIN, "MX") == [["10", HOST + "."]]
    assert find(z, HOST, "A") == [["203.0.113.25"]]
    for key in (tmp_path / DATA / "dkim" / DOMAIN).glob("*.key"):
        selector = key.name.split(".")[0]
        [rec] = find(z, f"{selector}._domainkey.{DOMAIN}", "TXT")
        assert tags(rec)["p"] == public_p(key)


def test_setup_as_root_creates_the_system_user(tmp_path):
    """Without --root, as root: useradd and chown. Run in a private mount
    namespace over copies of /etc and /var/lib, so the machine is not
    touched."""
    import os
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("useradd"):
        pytest.skip("needs root, unshare and useradd")
    varlib = tmp_path / "varlib"
    varlib.mkdir()
    script = tmp_path / "run.sh"
    script.write_text(f"""set -e
cp -a /etc {tmp_path}/etc
mount --bind {tmp_path}/etc /etc
mount --bind {varlib} /var/lib
echo {PW} | {BIN} setup {DOMAIN} --ip 203.0.113.25 > {tmp_path}/first.out
{BIN} setup {DOMAIN} --ip 203.0.113.25 < /dev/null > {tmp_path}/second.out
getent passwd facteur > {tmp_path}/passwd.out
""")
    r = subprocess.run(["unshare", "-m", "sh", str(script)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    first = steps((tmp_path / "first.out").read_text())
    assert "system user facteur" in first["created"]
    assert any(l.startswith("owner of ") and l.endswith("/var/lib/facteur set to facteur")
               for l in first["updated"]), first
    second = steps((tmp_path / "second.out").read_text())
    assert set(second) <= {"ok", "skipped", "todo"}, second
    assert "system user facteur already" in second["ok"]
    assert "/var/lib/facteur owned by facteur already" in second["ok"]
    pw = (tmp_path / "passwd.out").read_text().split(":")
    assert pw[0] == "facteur" and pw[5] == "/var/lib/facteur" and pw[6].strip() == "/usr/sbin/nologin"
    uid = int(pw[2])
    data = varlib / "facteur"
    assert all(p.lstat().st_uid == uid for p in [data, *data.rglob("*")])
    assert (tmp_path / "etc/facteur/facteur.conf").exists()
