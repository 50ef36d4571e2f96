"""The command line: verbs, check-config diagnostics, user management."""
import os
import re
import stat
import subprocess
import warnings

import pytest

from conftest import BIN

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as _crypt
except ImportError:          # Python >= 3.13
    _crypt = None


def run(*args, input=None):
    return subprocess.run([BIN, *args], input=input, capture_output=True,
                          text=True, timeout=30)


def users_file(f):
    return f.data_dir / "users"


def users_lines(f):
    p = users_file(f)
    return p.read_text().splitlines() if p.exists() else []


def hash_of(f, address):
    for line in users_lines(f):
        if line.startswith(address + ":"):
            return line[len(address) + 1:]
    return None


def password_matches(h, password):
    if _crypt is None:
        pytest.skip("no crypt module to check the hash")
    return _crypt.crypt(password, h) == h


# --------------------------------------------------------------------------
# verbs

def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert re.fullmatch(r"facteur \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout


def test_help_lists_verbs():
    r = run("help")
    assert r.returncode == 0
    for verb in ("serve", "check-config", "user"):
        assert re.search(rf"\bfacteur {verb}\b", r.stdout), (verb, r.stdout)
    assert "-c FILE" in r.stdout


@pytest.mark.parametrize("args", [("frobnicate",), ("Serve",), ("-x",), ("user", "frob")])
def test_unknown_verb_exits_2(args):
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr


def test_no_arguments_exits_2():
    r = run()
    assert r.returncode == 2
    assert "usage" in (r.stdout + r.stderr).lower()


def test_c_without_file_exits_2():
    r = run("check-config", "-c")
    assert r.returncode == 2
    assert "-c" in r.stderr


# --------------------------------------------------------------------------
# check-config

def test_check_config_ok(make_facteur):
    f = make_facteur()
    r = f.cli("check-config")
    assert r.returncode == 0
    assert "ok" in r.stdout
    assert str(f.conf) in r.stdout
    assert r.stderr == ""


def test_check_config_counts_users_and_warns_postmaster(make_facteur):
    f = make_facteur(domains=("example.test",))
    f.add_user("alice@example.test")
    r = f.cli("check-config")
    assert "1 user" in r.stdout
    assert "postmaster@example.test" in r.stdout          # warning
    f.set_aliases("postmaster@example.test: alice@example.test\n")
    r = f.cli("check-config")
    assert "0 warnings" in r.stdout


def insert_after(text, anchor, new):
    assert anchor in text, anchor
    return text.replace(anchor, anchor + new, 1)


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in config")


# (name, transform(base) -> text, the line the error must name (found by this
# substring; None: no line number), text the message must contain)
BAD_CONFIGS = [
    ("unknown key", lambda t: insert_after(t, "[limits]\n", "bogus_key = 1\n"),
     "bogus_key", "unknown key"),
    ("unknown key in server", lambda t: insert_after(t, "[server]\n", "hostnmae = x.example.test\n"),
     "hostnmae", "unknown key"),
    ("unknown section", lambda t: t + "[nonsense]\nkey = 1\n",
     "[nonsense]", "unknown section"),
    ("bad size", lambda t: t.replace("max_message_size = 1M", "max_message_size = 12X"),
     "12X", "max_message_size"),
    ("size too large", lambda t: t.replace("max_message_size = 1M", "max_message_size = 3G"),
     "3G", "too large"),
    ("negative size", lambda t: t.replace("max_message_size = 1M", "max_message_size = -1"),
     "= -1", "max_message_size"),
    ("listen without port", lambda t: insert_after(t, "[listen]\n", "submission = 127.0.0.1\n"),
     "submission", "submission"),
    ("listen bad ip", lambda t: insert_after(t, "[listen]\n", "submission = 300.0.0.1:587\n"),
     "submission", "submission"),
    ("listen port 0", lambda t: insert_after(t, "[listen]\n", "submission = 127.0.0.1:0\n"),
     "submission", "submission"),
    ("listen port too big", lambda t: insert_after(t, "[listen]\n", "submission = 127.0.0.1:65536\n"),
     "submission", "submission"),
    ("listen v6 unclosed", lambda t: insert_after(t, "[listen]\n", "submission = [::1:587\n"),
     "submission", "submission"),
    ("listen host name", lambda t: insert_after(t, "[listen]\n", "submission = localhost:587\n"),
     "submission", "submission"),
    ("key outside section", lambda t: "hostname = x.example.test\n" + t,
     "hostname = x.example.test", "outside"),
    ("duplicate key", lambda t: insert_after(t, "log_level = debug\n", "hostname = other.example.test\n"),
     "other.example.test", "twice"),
    ("missing domains", lambda t: re.sub(r"domains = .*\n", "", t),
     None, "domains"),
    ("empty domains", lambda t: re.sub(r"domains = .*\n", "domains =\n", t),
     "domains =", "domains"),
    ("bad domain", lambda t: re.sub(r"domains = .*\n", "domains = example.test bad_domain!\n", t),
     "bad_domain", "domains"),
    ("bad duration", lambda t: insert_after(t, "[limits]\n", "command_timeout = 5x\n"),
     "5x", "command_timeout"),
    ("bad number", lambda t: insert_after(t, "[limits]\n", "max_errors = ten\n"),
     "= ten", "max_errors"),
    ("number too large", lambda t: insert_after(t, "[limits]\n", "max_recipients = 1000000\n"),
     "1000000", "too large"),
    ("bad log level", lambda t: t.replace("log_level = debug", "log_level = verbose"),
     "verbose", "log_level"),
    ("bad hostname", lambda t: t.replace("hostname = mail.example.test", "hostname = mail_example"),
     "mail_example", "hostname"),
    ("line without =", lambda t: insert_after(t, "[limits]\n", "just some words\n"),
     "just some words", "key = value"),
    ("unclosed section", lambda t: t.replace("[limits]\n", "[limits\n"),
     "[limits", "]"),
    ("tls cert without key", lambda t: t + "[tls]\ncert = /nonexistent/cert.pem\n",
     None, "key"),
    ("no listener", lambda t: re.sub(r"smtp = .*\n", "", t),
     None, "listen"),
]


@pytest.mark.parametrize("name, transform, line_needle, message", BAD_CONFIGS,
                         ids=[c[0] for c in BAD_CONFIGS])
def test_check_config_bad(make_facteur, name, transform, line_needle, message):
    f = make_facteur()
    text = transform(f.conf.read_text())
    f.conf.write_text(text)
    r = f.cli("check-config", check=False)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert message.lower() in r.stderr.lower(), r.stderr
    if line_needle is None:
        assert str(f.conf) in r.stderr, r.stderr
    else:
        n = line_of(text, line_needle)
        assert f"{f.conf}:{n}:" in r.stderr, (n, r.stderr)
    assert "ok" not in r.stdout


def test_check_config_empty_unknown_section(make_facteur):
    """A misspelt section is an error even before any key is in it."""
    f = make_facteur()
    text = f.conf.read_text() + "[limtis]\n"
    f.conf.write_text(text)
    r = f.cli("check-config", check=False)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert f"{f.conf}:{line_of(text, '[limtis]')}:" in r.stderr, r.stderr


def test_check_config_reports_every_error(make_facteur):
    f = make_facteur()
    text = f.conf.read_text()
    text = text.replace("max_message_size = 1M", "max_message_size = 12X")
    text = insert_after(text, "[limits]\n", "bogus = 1\n")
    f.conf.write_text(text)
    r = f.cli("check-config", check=False)
    assert r.returncode == 1
    assert f"{f.conf}:{line_of(text, '12X')}:" in r.stderr
    assert f"{f.conf}:{line_of(text, 'bogus')}:" in r.stderr


def test_check_config_missing_file(tmp_path):
    r = run("check-config", "-c", str(tmp_path / "nope.conf"))
    assert r.returncode == 1
    assert "nope.conf" in r.stderr


def test_serve_refuses_bad_config(make_facteur):
    f = make_facteur()
    f.conf.write_text(f.conf.read_text().replace("max_message_size = 1M",
                                                 "max_message_size = 12X"))
    r = run("serve", "-c", str(f.conf))
    assert r.returncode == 1
    assert f"{f.conf}:" in r.stderr


def test_check_config_bad_users_line(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    with open(users_file(f), "a") as fh:
        fh.write("# a comment is fine\n\nthis is not a user line\n")
    lines = users_file(f).read_text().splitlines()
    bad = lines.index("this is not a user line") + 1
    r = f.cli("check-config", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"users:{bad}:" in r.stderr, r.stderr


@pytest.mark.parametrize("line", [
    "carol@example.test:plaintext",          # not a crypt hash
    "carol@example.test:",                   # no hash
    "carol:$y$j9T$abc$def",                  # no domain
    "alice@example.test:$y$j9T$abc$def",     # listed twice
])
def test_check_config_bad_users_lines(make_facteur, line):
    f = make_facteur()
    f.add_user("alice@example.test")
    with open(users_file(f), "a") as fh:
        fh.write(line + "\n")
    n = len(users_file(f).read_text().splitlines())
    r = f.cli("check-config", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert f"users:{n}:" in r.stderr, r.stderr


def test_check_config_bad_aliases_line(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    f.set_aliases("postmaster@example.test: alice@example.test\n"
                  "this line has no colon\n")
    r = f.cli("check-config", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "aliases:2:" in r.stderr, r.stderr


# --------------------------------------------------------------------------
# -c anywhere after the verb

def test_config_option_positions(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    conf = str(f.conf)
    for args in (["user", "list", "-c", conf],
                 ["user", "-c", conf, "list"],
                 ["user", "--config", conf, "list"],
                 ["user", "list", f"--config={conf}"],
                 ["check-config", "-c", conf]):
        r = run(*args)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        if "list" in args:
            assert r.stdout == "alice@example.test\n", args
    r = run("user", "add", "-c", conf, "bob@example.test", input="password123\n")
    assert r.returncode == 0, r.stderr
    assert hash_of(f, "bob@example.test")


# --------------------------------------------------------------------------
# user add / passwd / del / list

def test_user_add(make_facteur):
    f = make_facteur()
    r = f.cli("user", "add", "carol@example.test", input="correct horse\n")
    assert "carol@example.test" in r.stdout
    h = hash_of(f, "carol@example.test")
    assert h is not None and h.startswith("$y$"), users_lines(f)
    assert "correct horse" not in users_file(f).read_text()
    assert password_matches(h, "correct horse")
    assert not password_matches(h, "correct horsf")
    md = f.maildir("carol@example.test")
    for sub in ("cur", "new", "tmp"):
        assert (md / sub).is_dir(), sub
    assert stat.S_IMODE(os.stat(users_file(f)).st_mode) == 0o600


def test_user_add_does_not_follow_planted_symlinks(make_facteur, tmp_path):
    """`facteur user add` runs as root in data_dir, which the server's user
    owns: a symlink planted at users.lock is not followed (the temporary
    name of the users file: tests/unit/test_fsutil.c)."""
    f = make_facteur()
    f.add_user("alice@example.test")
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    lock = f.data_dir / "users.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    r = f.cli("user", "add", "carol@example.test", input="password123\n", check=False)
    assert r.returncode == 1 and victim.read_text() == "root's file\n", r.stderr
    assert hash_of(f, "carol@example.test") is None
    lock.unlink()
    f.cli("user", "add", "carol@example.test", input="password123\n")
    assert hash_of(f, "carol@example.test")


def test_user_add_lowercases(make_facteur):
    f = make_facteur()
    f.cli("user", "add", "Carol@Example.TEST", input="password123\n")
    assert hash_of(f, "carol@example.test")
    assert f.maildir("carol@example.test").is_dir()


def test_user_add_duplicate_refused(make_facteur):
    f = make_facteur()
    f.add_user("carol@example.test")
    before = users_file(f).read_text()
    for addr in ("carol@example.test", "CAROL@example.test"):
        r = f.cli("user", "add", addr, input="otherpassword\n", check=False)
        assert r.returncode == 1, addr
        assert "exists" in r.stderr
    assert users_file(f).read_text() == before


@pytest.mark.parametrize("address", [
    "carol@other.test", "carol@sub.example.test", "carol@example.com",
])
def test_user_add_foreign_domain_refused(make_facteur, address):
    f = make_facteur()
    r = f.cli("user", "add", address, input="password123\n", check=False)
    assert r.returncode == 1
    assert "domain" in r.stderr
    assert users_lines(f) == []


@pytest.mark.parametrize("address", [
    "carol", "carol@", "@example.test", "ca rol@example.test", "ca/rol@example.test",
    "carol+tag@example.test", "carol%x@example.test", "carol!x@example.test",
    "../carol@example.test", ".carol@example.test", "carol.@example.test",
    "carol@example.test.", "carol@[127.0.0.1]", "carol:x@example.test",
    "carol@example.test@example.test", '"ca rol"@example.test',
    '"ca/rol"@example.test', "",
])
def test_user_add_bad_syntax_refused(make_facteur, address):
    f = make_facteur()
    r = f.cli("user", "add", address, input="password123\n", check=False)
    assert r.returncode == 1, (address, r.stdout)
    assert r.stderr
    assert users_lines(f) == []
    assert not (f.data_dir / "mail").exists() or not any((f.data_dir / "mail").rglob("cur"))


@pytest.mark.parametrize("password", ["", "short", "1234567", "seven77"])
def test_user_add_short_password_refused(make_facteur, password):
    f = make_facteur()
    r = f.cli("user", "add", "carol@example.test", input=password + "\n", check=False)
    assert r.returncode == 1
    assert "8" in r.stderr
    assert hash_of(f, "carol@example.test") is None


def test_user_add_password_of_8_accepted(make_facteur):
    f = make_facteur()
    f.cli("user", "add", "carol@example.test", input="12345678\n")
    assert password_matches(hash_of(f, "carol@example.test"), "12345678")


def test_user_passwd(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test", "first password")
    f.add_user("carol@example.test", "carol password")
    old = hash_of(f, "carol@example.test")
    alice = hash_of(f, "alice@example.test")
    r = f.cli("user", "passwd", "carol@example.test", input="second password\n")
    assert r.returncode == 0
    new = hash_of(f, "carol@example.test")
    assert new != old and new.startswith("$y$")
    assert password_matches(new, "second password")
    assert not password_matches(new, "carol password")
    assert hash_of(f, "alice@example.test") == alice      # others untouched
    assert stat.S_IMODE(os.stat(users_file(f)).st_mode) == 0o600
    # Too short: refused, hash unchanged.
    r = f.cli("user", "passwd", "carol@example.test", input="short\n", check=False)
    assert r.returncode == 1
    assert hash_of(f, "carol@example.test") == new


def test_user_passwd_unknown(make_facteur):
    f = make_facteur()
    r = f.cli("user", "passwd", "nobody@example.test", input="password123\n", check=False)
    assert r.returncode == 1
    assert "nobody@example.test" in r.stderr


def test_user_del(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    f.add_user("carol@example.test")
    f.add_user("dave@example.test")
    r = f.cli("user", "del", "carol@example.test")
    assert r.returncode == 0
    assert [l.split(":")[0] for l in users_lines(f)] == ["alice@example.test", "dave@example.test"]
    assert stat.S_IMODE(os.stat(users_file(f)).st_mode) == 0o600
    r = f.cli("user", "del", "carol@example.test", check=False)
    assert r.returncode == 1
    r = f.cli("user", "list")
    assert r.stdout == "alice@example.test\ndave@example.test\n"
    assert f.cli("check-config").returncode == 0


def test_user_list(make_facteur):
    f = make_facteur()
    assert f.cli("user", "list").stdout == ""
    for a in ("alice@example.test", "bob@example.org", "carol@example.test"):
        f.add_user(a)
    r = f.cli("user", "list")
    assert r.stdout.splitlines() == ["alice@example.test", "bob@example.org", "carol@example.test"]
    assert "$y$" not in r.stdout


def test_user_edits_keep_comments(make_facteur):
    f = make_facteur()
    f.add_user("alice@example.test")
    with open(users_file(f), "a") as fh:
        fh.write("# keep me\n")
    f.add_user("carol@example.test")
    f.cli("user", "passwd", "alice@example.test", input="another password\n")
    f.cli("user", "del", "carol@example.test")
    lines = users_lines(f)
    assert "# keep me" in lines
    assert [l.split(":")[0] for l in lines if not l.startswith("#")] == ["alice@example.test"]
    assert f.cli("user", "list").stdout == "alice@example.test\n"


def test_user_usage_errors(make_facteur):
    f = make_facteur()
    for args in (["user"], ["user", "add"], ["user", "list", "extra"],
                 ["user", "add", "a@example.test", "b@example.test"], ["user", "remove", "a@example.test"]):
        r = f.cli(*args, input="password123\n", check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert users_lines(f) == []


def test_a_second_server_on_the_same_data_dir_refuses_to_start(make_facteur):
    """Two servers on one data_dir (other ports, same directory): the
    second's startup cleanup would empty queue/tmp/ under the first one's
    commits, and both would run the same queue. It now refuses to start;
    the first serves on."""
    import smtplib
    import subprocess
    from conftest import BIN, free_port
    f = make_facteur()
    f.start()
    other = f.root / "other.conf"
    text = f.conf.read_text()
    host, port = f.addr()
    other.write_text(text.replace(f":{port}", f":{free_port()}"))
    r = subprocess.run([BIN, "serve", "-c", str(other)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "another facteur is serving" in r.stderr + f.log()
    with smtplib.SMTP(host, port, timeout=10) as s:
        assert s.noop()[0] == 250
