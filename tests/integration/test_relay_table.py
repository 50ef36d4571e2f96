"""Relay and address tricks on the smtp (MX) listener, as a table.

Each row is (RCPT path, expected code, expected enhanced-code prefix).
Extend the tables freely: the test also enforces that no path outside
LEGIT is ever answered with 250, whatever its row says.

Server setup: users alice@ and bob@example.test, aliases postmaster@ and
team@example.test, catch-all @example.org -> bob (as conftest's `server`).
"""
import smtplib

import pytest

from conftest import Facteur, RawClient

# Paths that really are ours: the only ones that may get 250.
LEGIT = {
    "<alice@example.test>",
    "<bob@example.test>",
    "<ALICE@EXAMPLE.TEST>",
    "<Alice@Example.Test>",
    "<alice+tag@example.test>",
    '<"alice"@example.test>',          # quoted dot-string == alice
    "<postmaster>",
    "<Postmaster>",
    "<postmaster@example.test>",
    "<team@example.test>",
    "<anything@example.org>",
    "<anything@EXAMPLE.ORG>",
    "<postmaster@example.org>",
}

# Same answer with and without SMTPUTF8 on MAIL (ASCII paths only).
RELAY_TABLE = [
    # ours
    ("<alice@example.test>", 250, "2.1.5"),
    ("<ALICE@EXAMPLE.TEST>", 250, "2.1.5"),
    ("<Alice@Example.Test>", 250, "2.1.5"),
    ("<alice+tag@example.test>", 250, "2.1.5"),
    ('<"alice"@example.test>', 250, "2.1.5"),
    ("<postmaster>", 250, "2.1.5"),
    ("<Postmaster>", 250, "2.1.5"),
    ("<postmaster@example.test>", 250, "2.1.5"),
    ("<team@example.test>", 250, "2.1.5"),
    ("<anything@example.org>", 250, "2.1.5"),
    ("<anything@EXAMPLE.ORG>", 250, "2.1.5"),
    ("<postmaster@example.org>", 250, "2.1.5"),
    ("<nobody@example.test>", 550, "5.1.1"),
    ('<"al ice"@example.test>', 550, "5.1.1"),
    # percent hack, bang paths, extra '@'
    ("<user%other.org@example.test>", 550, "5.7.1"),
    ("<alice%other.org@example.test>", 550, "5.7.1"),
    ("<alice+tag%other.org@example.test>", 550, "5.7.1"),
    ("<victim%gmail.test>", 550, "5.7.1"),
    ("<x!victim@example.test>", 550, "5.7.1"),
    ("<gmail.test!victim@example.test>", 550, "5.7.1"),
    ("<gmail.test!victim>", 550, "5.7.1"),
    ("<alice@other.org@example.test>", 550, "5.7.1"),
    ("<alice@example.test@other.org>", 550, "5.7.1"),
    ("<alice@example.test,bob@example.test>", 550, "5.7.1"),
    ("<a\\@b@example.test>", 550, "5.7.1"),
    # source routes
    ("<@a.test,@b.test:alice@example.test>", 550, "5.7.1"),
    ("<@example.test:alice@example.test>", 550, "5.7.1"),
    ("<@example.test>", 550, "5.7.1"),
    # quoted local parts hiding routing
    ('<"alice@other.org"@example.test>', 550, "5.7.1"),
    ('<"alice%other.org"@example.test>', 550, "5.7.1"),
    ('<"alice!other.org"@example.test>', 550, "5.7.1"),
    ('<"al\\ice"@example.test>', 550, "5.7.1"),
    # address literals, trailing dots
    ("<alice@[127.0.0.1]>", 550, "5.7.1"),
    ("<alice@[IPv6:::1]>", 550, "5.7.1"),
    ("<postmaster@[127.0.0.1]>", 550, "5.7.1"),
    ('<"alice"@[127.0.0.1]>', 550, "5.7.1"),
    ("<alice@[example.test]>", 550, "5.7.1"),
    ("<alice@example.test.>", 550, "5.7.1"),
    ("<alice@example.org.>", 550, "5.7.1"),
    # other domains: relay denied
    ("<victim@gmail.test>", 554, "5.7.1"),
    ("<alice@xn--bcher-kva.example>", 554, "5.7.1"),
    ("<alice@sub.example.test>", 554, "5.7.1"),
    ("<alice@example.test.evil.test>", 554, "5.7.1"),
    ("<postmaster@other.org>", 554, "5.7.1"),
    # plain syntax errors
    ("<alice>", 501, "5.1.3"),
    ("<alice@>", 501, "5.1.3"),
    ("<>", 501, "5.1.3"),
    ("<alice@example..test>", 501, "5.1.3"),
    ("<alice@-example.test>", 501, "5.1.3"),
    ("<alice@127.0.0.1>", 501, "5.1.3"),
    ("<alice@0x7f000001>", 501, "5.1.3"),
    ("<alice@localhost>", 501, "5.1.3"),
    ("<alice@other.org%example.test>", 501, "5.1.3"),
    ("<alice@exa%mple.test>", 501, "5.1.3"),
    ("<alice@example.test:25>", 501, "5.1.3"),
    ("< alice@example.test>", 501, "5.1.3"),
    ("<alice@example.test >", 501, "5.1.3"),
    ("<alice@example.test", 501, "5.1.3"),
    ("<<alice@example.test>>", 501, "5.1.3"),
    ("<.alice@example.test>", 501, "5.1.3"),
    ("<alice.@example.test>", 501, "5.1.3"),
    ("<al..ice@example.test>", 501, "5.1.3"),
    ("alice@example.test", 501, "5.5.4"),
    ("<alice@example.test>>", 555, "5.5.4"),
    ("<alice@example.test> <bob@example.test>", 555, "5.5.4"),
    ("<" + "a" * 65 + "@example.test>", 501, "5.1.3"),
    ("<alice@" + "a" * 250 + ".test>", 501, "5.1.3"),
]

# Non-ASCII paths. Without SMTPUTF8 all are 553 5.6.7; with it, these.
UTF8_TABLE = [
    ("<jörg@example.test>", 550, "5.1.1"),
    ("<jörg@example.org>", 250, "2.1.5"),            # catch-all
    ("<alice@bücher.example>", 554, "5.7.1"),
    ("<alice@\u0435xample.test>", 554, "5.7.1"),     # Cyrillic 'е'
    ("<jörg%other.org@example.test>", 550, "5.7.1"),
    ("<jörg!victim@example.test>", 550, "5.7.1"),
    ("<jörg@other.org@example.test>", 550, "5.7.1"),
    ('<"jörg@other.org"@example.test>', 550, "5.7.1"),
    ("<jörg@[127.0.0.1]>", 550, "5.7.1"),
    ("<jörg@example.test.>", 550, "5.7.1"),
]
LEGIT_UTF8 = {"<jörg@example.org>"}


@pytest.fixture(scope="module")
def mx(tmp_path_factory):
    f = Facteur(tmp_path_factory.mktemp("relay"), name="mx")
    f.add_user("alice@example.test")
    f.add_user("bob@example.test")
    f.set_aliases(
        "postmaster@example.test: alice@example.test\n"
        "team@example.test: alice@example.test, bob@example.test\n"
        "@example.org: bob@example.test\n")
    f.start()
    yield f
    f.stop()
    assert not f.sanitizer_errors(), f.log()[-5000:]


def rcpt(f, path, smtputf8):
    """One session: EHLO, MAIL, RCPT path -> (code, text). Then checks that
    a refused recipient really left the transaction without recipients."""
    c = RawClient(*f.addr(), timeout=10)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.remote.test")[0] == 250
        code, text = c.cmd("MAIL FROM:<s@remote.test>" + (" SMTPUTF8" if smtputf8 else ""))
        assert code == 250, text
        code, text = c.cmd("RCPT TO:" + path)
        data_code, data_text = c.cmd("DATA")
        if code == 250:
            assert data_code == 354, data_text
            c.send("Subject: x\r\n\r\n")           # never finished: dropped
        else:
            assert (data_code, data_text[:5]) == (554, "5.5.1"), \
                f"{path}: refused with {code} yet DATA got {data_code} {data_text}"
        return code, text
    finally:
        c.close()


def check(path, code, text, want_code, want_enh, legit):
    if code == 250:
        assert path in legit, f"{path} is not ours, yet RCPT got 250 {text}"
    assert (code, text[:len(want_enh)]) == (want_code, want_enh), \
        f"RCPT TO:{path}: want {want_code} {want_enh}, got {code} {text}"


def test_table_is_consistent():
    for path, code, _ in RELAY_TABLE:
        assert (code == 250) == (path in LEGIT), path
    for path, code, _ in UTF8_TABLE:
        assert (code == 250) == (path in LEGIT_UTF8), path
    assert all(not any(ord(ch) > 127 for ch in p) for p, _, _ in RELAY_TABLE)
    assert all(any(ord(ch) > 127 for ch in p) for p, _, _ in UTF8_TABLE)


@pytest.mark.parametrize("smtputf8", [False, True], ids=["ascii", "smtputf8"])
@pytest.mark.parametrize("path, want_code, want_enh", RELAY_TABLE,
                         ids=[r[0] for r in RELAY_TABLE])
def test_relay_table(mx, path, want_code, want_enh, smtputf8):
    code, text = rcpt(mx, path, smtputf8)
    check(path, code, text, want_code, want_enh, LEGIT)


@pytest.mark.parametrize("path, want_code, want_enh", UTF8_TABLE,
                         ids=[r[0] for r in UTF8_TABLE])
def test_utf8_table(mx, path, want_code, want_enh):
    code, text = rcpt(mx, path, smtputf8=True)
    check(path, code, text, want_code, want_enh, LEGIT_UTF8)
    code, text = rcpt(mx, path, smtputf8=False)
    check(path, code, text, 553, "5.6.7", set())


def test_relay_refusals_logged(mx):
    rcpt(mx, "<user%other.org@example.test>", False)
    rcpt(mx, "<victim@gmail.test>", False)
    log = mx.log()
    assert "reason=relay-trick" in log
    assert "reason=relay-denied" in log


def test_server_survived(mx):
    with smtplib.SMTP(*mx.addr(), timeout=10) as s:
        assert s.sendmail("s@remote.test", ["alice@example.test"],
                          b"Subject: after the table\r\n\r\nok\r\n") == {}
    assert len(mx.wait_messages("alice@example.test", 1)) == 1
    # No row above ever completed a message.
    assert mx.messages("bob@example.test") == []
    assert "event=accepted" in mx.log()
    assert mx.log().count("event=accepted") == 1
