"""Privilege drop (issue 9): started as root, facteur binds its ports,
reads its keys, then becomes [server] user for good; as root without a
user it refuses to run; files it writes are private (0600/0700)."""
import os
import pwd
import shutil
import smtplib
import stat
import subprocess
import tempfile

import pytest

from conftest import BIN, Facteur

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def public_root():
    """A directory an unprivileged user can reach (pytest's tmp is 0700)."""
    d = tempfile.mkdtemp(prefix="facteur-priv-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def proc_ids(pid):
    ids = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("Uid:", "Gid:", "Groups:")):
            k, _, v = line.partition(":")
            ids[k] = v.split()
    return ids


def test_drops_to_the_configured_user(public_root):
    nobody = pwd.getpwnam("nobody")
    f = Facteur(public_root, extra={"server.user": "nobody", "server.run_as_root": "no"})
    f.add_user("alice@example.test")      # as root: the CLI drops too
    f.start()
    try:
        ids = proc_ids(f.proc.pid)
        assert ids["Uid"] == [str(nobody.pw_uid)] * 4     # real, effective, saved, fs
        assert ids["Gid"] == [str(nobody.pw_gid)] * 4
        assert ids.get("Groups", []) in ([], [str(nobody.pw_gid)])
        with smtplib.SMTP(*f.addr()) as s:
            s.sendmail("x@remote.test", ["alice@example.test"], b"Subject: p\r\n\r\nx\r\n")
        [path] = f.wait_messages("alice@example.test", 1)
        st = path.stat()
        assert st.st_uid == nobody.pw_uid and stat.S_IMODE(st.st_mode) == 0o600
        for p in (f.data_dir, f.data_dir / "queue", f.data_dir / "mail", f.data_dir / "tls"):
            st = p.stat()
            assert st.st_uid == nobody.pw_uid, p
            assert stat.S_IMODE(st.st_mode) == 0o700, p
        users = f.data_dir / "users"
        assert users.stat().st_uid == nobody.pw_uid
        assert stat.S_IMODE(users.stat().st_mode) == 0o600
        assert "event=privileges-dropped user=nobody" in f.log()
    finally:
        f.stop()


def test_refuses_root_without_user(public_root):
    f = Facteur(public_root, extra={"server.run_as_root": "no"})
    f.start(wait=False)
    assert f.proc.wait(10) == 1
    f.logf.close()
    f.proc = None
    assert "refusing to run as root" in f.log()


def test_unknown_user_refused(public_root):
    f = Facteur(public_root, extra={"server.user": "no-such-user-here", "server.run_as_root": "no"})
    r = subprocess.run([BIN, "serve", "-c", str(f.conf)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "[server] user does not exist" in r.stderr


def test_what_root_recreates_inside_data_dir_is_handed_over(public_root):
    """data_dir is the user's already, but queue/tmp/ was removed by hand
    and the self-signed certificate deleted: root makes them again at
    startup, inside directories it does not walk. They were left to root,
    so spooling failed (every message a 451) and a reload could not read
    the key."""
    nobody = pwd.getpwnam("nobody")
    f = Facteur(public_root, extra={"server.user": "nobody", "server.run_as_root": "no"})
    f.add_user("alice@example.test")
    f.start()
    f.stop()
    shutil.rmtree(f.data_dir / "queue" / "tmp")
    made = [p for p in (f.data_dir / "tls").iterdir() if p.name.startswith("selfsigned")]
    for p in made:
        p.unlink()
    f.start()
    try:
        for p in [f.data_dir / "queue" / "tmp"] + made:
            assert p.stat().st_uid == nobody.pw_uid, p
        with smtplib.SMTP(*f.addr()) as s:
            s.sendmail("x@remote.test", ["alice@example.test"],
                       b"Subject: p\r\n\r\n" + (b"x" * 70 + b"\r\n") * 4000)
        f.wait_messages("alice@example.test", 1)
        f.reload()
        assert "event=reload-failed" not in f.log()
    finally:
        f.stop()
