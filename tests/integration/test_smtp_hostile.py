"""Hostile SMTP clients: the real binary attacked over real sockets.

Every case checks the exact reply (code and enhanced code), that the bytes
of a refused command or message are never executed as commands, and that
the server still delivers a normal message afterwards (assert_serves).
"""
import smtplib
import socket
import time

import pytest

from conftest import Facteur, RawClient, assert_unread_replies_bounded, flood_unread

ALICE = "alice@example.test"
BOB = "bob@example.test"


# --------------------------------------------------------------------------
# helpers

def assert_serves(f, rcpt=ALICE):
    """The server is alive and still delivers an ordinary message."""
    assert f.proc is not None and f.proc.poll() is None, "facteur died"
    before = len(f.messages(rcpt))
    with smtplib.SMTP(*f.addr(), timeout=10) as s:
        refused = s.sendmail("ok@remote.test", [rcpt],
                             b"Subject: still serving\r\n\r\nok\r\n")
        assert refused == {}
    f.wait_messages(rcpt, before + 1)


def assert_nothing_delivered(f):
    """After a refusal: a probe message goes through and is all there is.
    (A message accepted earlier would have been stored before the probe.)"""
    assert_serves(f)
    assert len(f.messages(ALICE)) == 1
    assert f.messages(BOB) == []


def expect(c, code, enh=None, contains=None):
    """Reads one reply and checks it; returns its text."""
    got, text = c.reply()
    assert got == code, f"want {code} {enh or ''}, got {got} {text!r}"
    if enh is not None:
        assert text.startswith(enh), f"want {code} {enh}, got {got} {text!r}"
    if contains is not None:
        assert contains.lower() in text.lower(), f"{contains!r} not in {text!r}"
    return text


def nothing_more(c, wait=0.1):
    """No further reply arrives (and the connection is still open)."""
    assert c.buf == b"", f"unexpected extra reply: {c.buf!r}"
    c.sock.settimeout(wait)
    try:
        data = c.sock.recv(65536)
    except (socket.timeout, TimeoutError):
        return
    finally:
        c.sock.settimeout(10)
    raise AssertionError(f"unexpected extra data: {data!r}")


def start_server(make_facteur, **extra):
    f = make_facteur(extra=extra)
    f.add_user(ALICE)
    f.add_user(BOB)
    return f.start()


def connect(f, greet=True, timeout=10.0):
    c = RawClient(*f.addr(), timeout=timeout)
    if greet:
        expect(c, 220)
    return c


def send_expect(c, line, code, enh=None, contains=None):
    c.send(line + "\r\n")
    return expect(c, code, enh, contains)


def open_tx(c, rcpt=ALICE):
    send_expect(c, "EHLO client.test", 250)
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    code, text = c.cmd("DATA")
    assert code == 354, text


def mail_events(f):
    return f.log().count("event=mail ")


# --------------------------------------------------------------------------
# over-long command lines (RFC 5321 4.5.3.1.4: 512 octets with CRLF)

def test_line_of_512_octets_is_accepted(server, raw):
    c = raw()
    line = "NOOP " + "a" * (512 - 5 - 2)
    assert len(line) + 2 == 512
    send_expect(c, line, 250, "2.0.0")
    nothing_more(c)
    assert_serves(server)


def test_line_of_513_octets_is_refused_and_session_continues(server, raw):
    c = raw()
    c.send("NOOP " + "a" * (513 - 5 - 2) + "\r\n")
    expect(c, 500, "5.5.2", contains="too long")
    nothing_more(c)
    assert c.cmd("NOOP")[0] == 250
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert_serves(server)


@pytest.mark.parametrize("offset", [500, 510, 512, 513, 520, 4096, 70000])
def test_command_hidden_after_byte_512_is_not_executed(server, raw, offset):
    """A long line whose tail (from `offset`) is a command: one 500, and
    the tail is not executed wherever the server would cut the line."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    pad = "NOOP " + "x" * (offset - 5)
    assert len(pad) == offset
    c.send(pad + "MAIL FROM:<x@evil.test>\r\n")
    expect(c, 500, "5.5.2")
    nothing_more(c)
    # Had the tail run as a command, MAIL would be open: RCPT would work.
    send_expect(c, "RCPT TO:<bob@example.test>", 503, "5.5.1")
    assert "evil.test" not in server.log()
    assert mail_events(server) == 0
    assert_serves(server)


def test_long_line_in_pieces_tail_is_discarded(server, raw):
    """The rest of a long line (up to LF) is discarded even when it arrives
    in later reads, and even when it looks like QUIT or MAIL."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send("NOOP " + "y" * 700)           # over the limit, no LF yet
    expect(c, 500, "5.5.2")
    time.sleep(0.05)
    c.send("z" * 300)
    time.sleep(0.05)
    c.send("QUIT MAIL FROM:<x@evil.test>\r\n")   # still the same line
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0"), (code, text)
    nothing_more(c)
    assert "evil.test" not in server.log()
    assert_serves(server)


def test_huge_line_without_lf(server, raw):
    """Megabytes without a line end: one refusal, memory stays bounded."""
    c = raw()
    c.send("NOOP " + "q" * (2 * 1024 * 1024))
    expect(c, 500, "5.5.2")
    c.send("\r\n")
    nothing_more(c)
    assert c.cmd("NOOP")[0] == 250
    assert_serves(server)


# --------------------------------------------------------------------------
# bare CR, bare LF and NUL in commands

@pytest.mark.parametrize("line, mention", [
    (b"NOOP\n", "bare <LF>"),
    (b"MAIL FROM:<a@remote.test>\n", "bare <LF>"),
    (b"NO\rOP\r\n", "bare <CR>"),
    (b"NOOP\r\r\n", "bare <CR>"),
    (b"NO\x00OP\r\n", "NUL"),
    (b"NOOP \x00\r\n", "NUL"),
])
def test_bad_octets_in_command(server, raw, line, mention):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send(line)
    expect(c, 500, "5.5.2", contains=mention)
    nothing_more(c)
    assert mail_events(server) == 0          # the bad MAIL never ran
    # The session carries on, right through a whole transaction.
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: after bad octets\r\n\r\nhi\r\n.\r\n")
    expect(c, 250, "2.0.0")
    server.wait_messages(BOB, 1)
    assert_serves(server)


# --------------------------------------------------------------------------
# message content: bare CR/LF, long lines, NUL

@pytest.mark.parametrize("body, why", [
    (b"line one\nline two\r\n", "bare"),
    (b"line one\rline two\r\n", "bare"),
    (b"ends with bare lf\n\r\n", "bare"),
    (b"a" * 999 + b"\r\n", "998"),
    (b"nul \x00 octet\r\n", "NUL"),
])
def test_bad_content_refused(server, raw, body, why):
    c = raw()
    open_tx(c)
    c.send(b"Subject: bad\r\n\r\n" + body + b".\r\n")
    expect(c, 550, "5.6.0", contains=why)
    nothing_more(c)
    assert c.cmd("NOOP")[0] == 250
    assert_nothing_delivered(server)


def test_line_of_998_is_accepted(server, raw):
    c = raw()
    open_tx(c)
    c.send(b"Subject: long\r\n\r\n" + b"b" * 998 + b"\r\n.\r\n")
    expect(c, 250, "2.0.0")
    [path] = server.wait_messages(ALICE, 1)
    assert b"b" * 998 + b"\n" in path.read_bytes()


# SMTP smuggling: only <CRLF>.<CRLF> ends a message.
SMUGGLE = (b"MAIL FROM:<x@evil.test>\r\n"
           b"RCPT TO:<bob@example.test>\r\n"
           b"DATA\r\n"
           b"From: ceo@example.test\r\n"
           b"Subject: smuggled\r\n"
           b"\r\n"
           b"pay the invoice\r\n")


@pytest.mark.parametrize("fake_end", [
    b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
    b"\r\n.\r\r\n", b"\n..\n", b"\r\n\x00.\r\n",
])
def test_smtp_smuggling(server, raw, fake_end):
    c = raw()
    open_tx(c)
    c.send(b"Subject: innocent\r\n\r\nhello" + fake_end + SMUGGLE + b".\r\n")
    text = expect(c, 550, "5.6.0")
    # Exactly one reply for everything above: no 250/354 for smuggled commands.
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0")
    nothing_more(c)
    log = server.log()
    assert "x@evil.test" not in log
    assert mail_events(server) == 1
    assert "event=accepted" not in log
    assert_nothing_delivered(server)


def test_smuggling_with_crlf_end_first_is_a_new_transaction(server, raw):
    """Control: after a real <CRLF>.<CRLF> the next bytes ARE commands (with
    PIPELINING), so the test above proves something."""
    c = raw()
    open_tx(c)
    c.send(b"Subject: innocent\r\n\r\nhello\r\n.\r\n")
    expect(c, 250, "2.0.0")
    c.send(b"MAIL FROM:<x@evil.test>\r\nRCPT TO:<bob@example.test>\r\n")
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")


# --------------------------------------------------------------------------
# size limits (the test config sets max_message_size = 1M)

def test_mail_size_over_limit(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send("MAIL FROM:<s@remote.test> SIZE=2000000\r\n")
    expect(c, 552, "5.3.4")
    # Equal to the limit is fine.
    c.send("MAIL FROM:<s@remote.test> SIZE=1048576\r\n")
    expect(c, 250, "2.1.0")
    assert_serves(server)


def big_body(size):
    """Content over the limit, full of lines that look like commands."""
    chunk = (b"RSET\r\n" b"QUIT\r\n" b"MAIL FROM:<x@evil.test>\r\n"
             b"RCPT TO:<bob@example.test>\r\n" b"DATA\r\n"
             + b"x" * 80 + b"\r\n")
    out = b"Subject: big\r\n\r\n" + chunk * (size // len(chunk) + 1)
    return out


def test_data_over_limit(server, raw):
    c = raw()
    open_tx(c)
    c.send(big_body(1_500_000) + b".\r\n")
    expect(c, 552, "5.3.4")
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0")
    assert "x@evil.test" not in server.log()
    assert mail_events(server) == 1
    assert_nothing_delivered(server)


def test_bdat_last_line_without_crlf_is_ended(server, raw):
    """BDAT frames by length, so a message may end without CRLF; its last
    line gets one (as Postfix does, and as DATA always has), so that the
    stored message is the size a POP3 client is told it will get."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    before = len(server.messages(ALICE))
    body = b"Subject: unended\r\n\r\nno newline at the end"
    c.send(b"BDAT %d LAST\r\n" % len(body) + body)
    expect(c, 250, "2.0.0")
    path = server.messages(ALICE)[before]
    assert path.read_bytes().endswith(b"\n\nno newline at the end\n")
    wire = path.read_bytes().replace(b"\n", b"\r\n")
    assert f",W={len(wire)}," in path.name + ","


def test_bdat_last_over_limit(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    body = big_body(1_500_000)
    c.send(b"BDAT %d LAST\r\n" % len(body) + body)
    expect(c, 552, "5.3.4")
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0")
    assert "x@evil.test" not in server.log()
    assert_nothing_delivered(server)


def test_bdat_chunks_over_limit(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    body = big_body(600_000)
    c.send(b"BDAT %d\r\n" % len(body) + body)
    expect(c, 250, "2.0.0")
    # The second chunk crosses the limit: refused, transaction gone.
    c.send(b"BDAT %d\r\n" % len(body) + body)
    expect(c, 552, "5.3.4")
    # A chunk after that has no transaction: refused, but still consumed.
    tail = b"QUIT\r\nMAIL FROM:<x@evil.test>\r\n"
    c.send(b"BDAT %d LAST\r\n" % len(tail) + tail)
    expect(c, 503, "5.5.1")
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0")
    assert "x@evil.test" not in server.log()
    assert_nothing_delivered(server)


# --------------------------------------------------------------------------
# recipients

def test_too_many_recipients(server, raw):
    """Past [limits] max_recipients, 452 (RFC 5321 4.5.3.1.10): the client
    sends those later. Not errors: twenty of them (more than max_errors)
    do not close the session, or the hundred accepted would be lost."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    rcpts = "".join(f"RCPT TO:<u{i}@example.org>\r\n" for i in range(120))
    c.send("MAIL FROM:<s@remote.test>\r\n" + rcpts)
    expect(c, 250, "2.1.0")
    for i in range(100):
        expect(c, 250, "2.1.5")
    for i in range(20):
        expect(c, 452, "4.5.3")
    nothing_more(c)
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: many\r\n\r\nhi\r\n.\r\n")
    expect(c, 250, "2.0.0")
    # All 100 go to bob through the catch-all: one copy.
    assert len(server.wait_messages(BOB, 1)) == 1
    assert_serves(server)


def test_recipients_expanded_past_what_a_queue_entry_holds(make_facteur):
    """A transaction holds at most 10,000 mailboxes and remote addresses
    once aliases expand (QUEUE_RCPTS_MAX): the RCPT that would pass it
    gets 452 (the client sends it later), not an entry accepted and
    then unreadable at the next start."""
    f = make_facteur(extra={"limits.max_recipients": "100"})
    f.add_user(ALICE)
    f.set_aliases("big@example.test: " + ", ".join(f"u{i}@remote.test" for i in range(1000)) +
                  "\n")
    f.start()
    c = connect(f)
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    for _ in range(10):
        assert c.cmd("RCPT TO:<big@example.test>")[0] == 250
    code, text = c.cmd("RCPT TO:<big@example.test>")
    assert (code, text[:5]) == (452, "4.5.3"), (code, text)
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 452
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250


def test_max_recipients_config(make_facteur):
    f = start_server(make_facteur, **{"limits.max_recipients": "2"})
    c = connect(f)
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert c.cmd("RCPT TO:<bob@example.test>")[0] == 250
    c.send("RCPT TO:<x@example.org>\r\n")
    expect(c, 452, "4.5.3")
    c.close()
    assert_serves(f)


# --------------------------------------------------------------------------
# pipelining violations (RFC 2920 3.1)

def assert_sync_close(c):
    expect(c, 554, "5.5.0")
    assert c.closed(), "connection left open after a synchronization error"


def test_command_before_ehlo_reply(server, raw):
    c = raw()
    c.send("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n")
    assert_sync_close(c)
    assert mail_events(server) == 0
    assert "reason=pipelining" in server.log()
    assert_serves(server)


def test_command_before_helo_reply(server, raw):
    c = raw()
    c.send("HELO client.test\r\nMAIL FROM:<a@b.test>\r\n")
    assert_sync_close(c)
    assert mail_events(server) == 0
    assert_serves(server)


def test_helo_client_may_not_pipeline(server, raw):
    c = raw()
    assert c.cmd("HELO client.test")[0] == 250
    c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\n")
    assert_sync_close(c)
    assert mail_events(server) == 0
    assert_serves(server)


def test_a_refused_ehlo_leaves_the_transaction_alone(server, raw):
    """A HELO/EHLO refused for its syntax changes nothing; only one that
    succeeds resets the transaction (RFC 5321 4.1.4). Resetting first
    left the session in the RCPT state with no recipient, and its DATA
    was answered 250 with nothing stored."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    before = len(server.messages(ALICE))
    assert c.cmd("EHLO")[0] == 501
    assert c.cmd("HELO \x01")[0] == 501
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: kept\r\n\r\nbody\r\n.\r\n")
    code, text = c.reply()
    assert code == 250 and len(text.split("queued as ")[1]) == 16, text
    assert len(server.messages(ALICE)) == before + 1
    # A good EHLO does reset it: no DATA without a new MAIL.
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert c.cmd("EHLO client.test")[0] == 250
    expect_data = c.cmd("DATA")
    assert expect_data[0] == 503, expect_data
    assert len(server.messages(ALICE)) == before + 1


def test_replies_nobody_reads_do_not_pile_up(server, raw):
    """A client that sends commands and never reads the replies: once
    64 KB of replies wait, the server stops reading its commands until
    the client reads (conn_write_blocked), instead of queueing 20 octets
    of HELP reply per octet received (36 MB here). Every command is
    still answered, in order. (HELP is a junk command: their limit is
    raised here.)"""
    server.stop()
    server.extra["limits.max_junk_commands"] = "1000000"
    server.write_config()
    server.start()
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert_unread_replies_bounded(server, c.sock, b"HELP\r\n", b"facteur's README\r\n")
    assert c.cmd("NOOP")[0] == 250
    assert_serves(server)


def test_message_before_354(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<a@b.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    c.send("DATA\r\nSubject: eager\r\n\r\nhi\r\n.\r\n")
    assert_sync_close(c)
    assert_nothing_delivered(server)


def test_message_before_354_in_one_pipelined_write(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
           "Subject: eager\r\n\r\nhi\r\n.\r\n")
    expect(c, 250, "2.1.0")
    expect(c, 250, "2.1.5")
    assert_sync_close(c)
    assert_nothing_delivered(server)


# --------------------------------------------------------------------------
# early talkers, idle clients

def test_early_talker(make_facteur):
    f = start_server(make_facteur, **{"limits.greeting_delay": "500ms"})
    c = connect(f, greet=False)
    c.send("EHLO hasty.test\r\n")
    assert_sync_close(c)
    assert "reason=early-talker" in f.log()
    # A patient client is greeted after the delay.
    start = time.time()
    c2 = connect(f, greet=False)
    expect(c2, 220)
    assert time.time() - start >= 0.4
    assert c2.cmd("EHLO patient.test")[0] == 250
    c2.close()
    assert_serves(f)


def test_command_timeout(make_facteur):
    f = start_server(make_facteur, **{"limits.command_timeout": "1s"})
    c = connect(f, timeout=10)
    assert c.cmd("EHLO idle.test")[0] == 250
    start = time.time()
    expect(c, 421, "4.4.2")
    elapsed = time.time() - start
    assert 0.8 <= elapsed <= 5, elapsed
    assert c.closed()
    assert "event=timeout" in f.log()
    assert_serves(f)


def test_a_client_that_stops_reading_is_dropped(make_facteur):
    """Commands sent, replies never read: at the write timeout the session
    ends and frees its connection slot. The timeout used to leave writing
    disabled with the 421 queued behind the replies, so the session
    waited for ever for a flush that could not happen. (HELP is a junk
    command: their limit is raised.)"""
    f = start_server(make_facteur, **{"limits.command_timeout": "1s",
                                      "limits.max_junk_commands": "1000000"})
    c = connect(f)
    assert c.cmd("EHLO client.test")[0] == 250
    before = f.log().count("event=disconnect")
    flood_unread(c.sock, b"HELP\r\n" * 300_000, settle=0.5)
    f.wait_log("event=timeout", timeout=15)
    end = time.time() + 15
    while f.log().count("event=disconnect") == before and time.time() < end:
        time.sleep(0.1)
    assert f.log().count("event=disconnect") > before, "session never freed"
    assert_serves(f)


def test_data_timeout(make_facteur):
    f = start_server(make_facteur, **{"limits.data_timeout": "1s",
                                      "limits.command_timeout": "30s"})
    c = connect(f, timeout=10)
    open_tx(c)
    c.send("Subject: half\r\n\r\nhalf a mess")
    start = time.time()
    expect(c, 421, "4.4.2")
    elapsed = time.time() - start
    assert 0.8 <= elapsed <= 5, elapsed
    assert c.closed()
    assert_nothing_delivered(f)


# --------------------------------------------------------------------------
# too many errors

def test_too_many_errors(make_facteur):
    f = start_server(make_facteur, **{"limits.max_errors": "3"})
    c = connect(f)
    send_expect(c, "FOO", 500, "5.5.1")
    send_expect(c, "RCPT TO:<a@example.test>", 503, "5.5.1")
    c.send("VRFY\r\n")
    expect(c, 501, "5.5.4")
    expect(c, 421, "4.7.0", contains="too many errors")
    assert c.closed()
    assert "event=too-many-errors" in f.log()
    assert_serves(f)


def test_errors_below_limit_keep_session(make_facteur):
    f = start_server(make_facteur, **{"limits.max_errors": "3"})
    c = connect(f)
    assert c.cmd("FOO")[0] == 500
    assert c.cmd("BAR")[0] == 500
    assert c.cmd("NOOP")[0] == 250
    nothing_more(c)
    c.close()


# --------------------------------------------------------------------------
# connection limits

def wait_accepting(f, timeout=5.0):
    """Connects until we get a 220 (the server saw earlier clients go)."""
    end = time.time() + timeout
    while True:
        c = RawClient(*f.addr(), timeout=5)
        code, text = c.reply()
        if code == 220:
            return c
        c.close()
        if time.time() > end:
            raise AssertionError(f"still refused: {code} {text}")
        time.sleep(0.05)


@pytest.mark.parametrize("key", ["limits.max_connections_per_ip",
                                 "limits.max_connections"])
def test_connection_limits(make_facteur, key):
    limit = 3 if key.endswith("per_ip") else 2
    f = start_server(make_facteur, **{key: str(limit)})
    held = [connect(f) for _ in range(limit)]
    extra = connect(f, greet=False)
    expect(extra, 421, "4.7.0")
    assert extra.closed()
    # Those already in are served normally.
    assert held[0].cmd("EHLO held.test")[0] == 250
    # One leaves: a new one gets in, and the next is refused again.
    held.pop(0).close()
    held.append(wait_accepting(f))
    again = connect(f, greet=False)
    expect(again, 421, "4.7.0")
    assert again.closed()
    for c in held:
        c.close()
    assert "event=refuse-connection" in f.log()
    end = time.time() + 5
    while True:          # all gone: normal service
        try:
            assert_serves(f)
            break
        except smtplib.SMTPConnectError:
            if time.time() > end:
                raise
            time.sleep(0.05)


# --------------------------------------------------------------------------
# sequence and syntax errors: a table anyone can extend.
# (setup commands, each expecting 250) -> command -> (code, enhanced prefix)

EHLO = "EHLO client.test"
MAIL = "MAIL FROM:<s@remote.test>"
RCPT = "RCPT TO:<alice@example.test>"

SEQUENCE_TABLE = [
    ([], MAIL, 503, "5.5.1"),
    ([], "MAIL FROM:<a@remote.test> SIZE=10", 503, "5.5.1"),
    ([EHLO], RCPT, 503, "5.5.1"),
    ([EHLO], "DATA", 503, "5.5.1"),
    ([EHLO, MAIL], "DATA", 554, "5.5.1"),
    ([EHLO, MAIL], MAIL, 503, "5.5.1"),
    ([EHLO, MAIL, RCPT], MAIL, 503, "5.5.1"),
    ([], "FOOBAR", 500, "5.5.1"),
    ([], "FOOBAR baz", 500, "5.5.1"),
    ([], "X-FOO", 500, "5.5.2"),
    ([], "", 500, "5.5.2"),
    ([], "VRFY alice@example.test", 252, "2."),
    ([], "VRFY nobody@example.test", 252, "2."),
    ([], "EXPN team@example.test", 252, "2."),
    ([], "VRFY", 501, "5.5.4"),
    ([], "HELP", 214, None),
    ([], "NOOP anything", 250, "2.0.0"),
    ([EHLO, MAIL, RCPT], "RSET", 250, "2.0.0"),
    ([], "RSET now", 501, "5.5.4"),
    ([], "EHLO", 501, "5.5.4"),
    ([], "HELO", 501, "5.5.4"),
    ([EHLO], "MAIL FROM:<s@remote.test> FOO=BAR", 555, "5.5.4"),
    ([EHLO], "MAIL FROM:<s@remote.test> BODY=BINARYMIME", 501, "5.5.4"),
    ([EHLO], "MAIL FROM:<s@remote.test> SIZE=abc", 501, "5.5.4"),
    (["HELO client.test"], "MAIL FROM:<s@remote.test> SIZE=10", 555, "5.5.4"),
    ([EHLO], "MAIL FROM:s@remote.test", 501, "5.5.4"),
    ([EHLO], "MAIL TO:<s@remote.test>", 501, "5.5.4"),
    ([EHLO, MAIL], "RCPT TO:<alice@example.test> NOTIFY=NEVER", 555, "5.5.4"),
    ([EHLO, MAIL], "RCPT TO:<alice@example.test> ORCPT=rfc822;a@b.test", 555, "5.5.4"),
    ([EHLO, MAIL], "RCPT TO:<>", 501, "5.1.3"),
    ([EHLO, MAIL, RCPT], "DATA now", 501, "5.5.4"),
    ([EHLO], "MAIL FROM:<jörg@remote.test>", 553, "5.6.7"),
    ([EHLO, MAIL], "RCPT TO:<jörg@example.test>", 553, "5.6.7"),
    ([EHLO, "MAIL FROM:<s@remote.test> SMTPUTF8"], "RCPT TO:<jörg@example.test>", 550, "5.1.1"),
    ([EHLO, "MAIL FROM:<jörg@remote.test> SMTPUTF8"], "RCPT TO:<bob@example.test>", 250, "2.1.5"),
    ([EHLO, MAIL], "RCPT TO:<nobody@example.test>", 550, "5.1.1"),
    ([], "STARTTLS", 503, "5.5.1"),            # EHLO first (RFC 3207)
    ([EHLO], "STARTTLS now", 501, "5.5.4"),
    ([EHLO], "AUTH PLAIN AGFsaWNlAHBhc3N3b3JkMTIz", 502, "5.5.1"),
]


def _ident(case):
    setup, command, code, _ = case
    return f"{'+'.join(s.split()[0] for s in setup) or 'fresh'}:{command[:30]!r}->{code}"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    f = Facteur(tmp_path_factory.mktemp("hostile"), name="shared")
    f.add_user(ALICE)
    f.add_user(BOB)
    f.set_aliases("team@example.test: alice@example.test, bob@example.test\n")
    f.start()
    yield f
    f.stop()
    assert not f.sanitizer_errors(), f.log()[-5000:]


@pytest.mark.parametrize("case", SEQUENCE_TABLE, ids=[_ident(c) for c in SEQUENCE_TABLE])
def test_sequence_and_syntax(shared, case):
    setup, command, code, enh = case
    c = connect(shared)
    try:
        for line in setup:
            got, text = c.cmd(line)
            assert got == 250, f"setup {line!r}: {got} {text}"
        c.send(command + "\r\n")
        expect(c, code, enh)
        # The session is still usable (and no extra reply was queued: it
        # would be read here instead of NOOP's).
        got, text = c.cmd("NOOP")
        assert got == 250 and text.startswith("2.0.0"), (got, text)
    finally:
        c.close()
    assert_serves(shared)


def test_rset_clears_transaction(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    assert c.cmd("RSET")[0] == 250
    send_expect(c, "RCPT TO:<bob@example.test>", 503, "5.5.1")
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250   # not "nested"


def test_bdat_before_ehlo(server, raw):
    c = raw()
    chunk = b"QUIT\r\nMAIL"         # 10 octets that look like commands
    c.send(b"BDAT 10 LAST\r\n" + chunk)
    expect(c, 503, "5.5.1")
    nothing_more(c)
    code, text = c.cmd("NOOP")
    assert (code, text[:5]) == (250, "2.0.0")
    assert_serves(server)


def test_bdat_without_transaction(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send(b"BDAT 6\r\nRSET\r\n")
    expect(c, 503, "5.5.1")
    nothing_more(c)
    assert c.cmd("NOOP")[0] == 250


@pytest.mark.parametrize("args", ["abc", "", "-1", "10 NOTLAST", "99999999999999999999999"])
def test_bdat_bad_size_closes(server, raw, args):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    c.send(f"BDAT {args}".rstrip() + "\r\n")
    expect(c, 501, "5.5.4")
    assert c.closed()
    assert_serves(server)


def test_data_after_bdat_refused(server, raw):
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    assert c.cmd("MAIL FROM:<s@remote.test>")[0] == 250
    assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
    c.send(b"BDAT 5\r\nhello")
    expect(c, 250, "2.0.0")
    c.send("DATA\r\n")
    expect(c, 503, "5.5.1")
    assert c.cmd("RCPT TO:<bob@example.test>")[0] == 503


def test_out_of_descriptors_pauses_accepting(server):
    """With its descriptors used up, accept() fails with EMFILE while the
    connection stays in the backlog: retried at every turn of the loop,
    that spun a core and wrote an accept-error line each time. Accepting
    now pauses for a second and resumes once descriptors are free."""
    import os
    import subprocess
    pid = server.proc.pid
    if os.environ.get("FACTEUR_VALGRIND"):
        pytest.skip("valgrind keeps descriptors of its own")
    limit = len(os.listdir(f"/proc/{pid}/fd")) + 6
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:{limit}"], check=True)

    def cpu():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    socks = []
    try:
        for _ in range(30):
            socks.append(socket.create_connection(server.addr(), timeout=5))
        server.wait_log(r"event=accept-error .*error=\"?Too many open files")
        before, t0 = cpu(), time.time()
        time.sleep(2)
        spent = cpu() - before
        assert spent < 0.5 * (time.time() - t0), spent
        assert server.log().count("event=accept-error") <= 10
    finally:
        for s in socks:
            s.close()
    server.wait_log("event=accept-resumed", timeout=10)
    with socket.create_connection(server.addr(), timeout=10) as s:
        s.settimeout(10)
        assert s.recv(100).startswith(b"220")


def test_junk_commands_end_in_errors(raw, server):
    """NOOP, RSET, HELP and VRFY move nothing forward: past 100 in a
    session each counts as an error, so one every few minutes can no
    longer hold a connection slot for ever (Postfix's
    smtpd_junk_command_limit); a delivered message starts the count
    again."""
    c = raw()
    assert c.cmd("EHLO client.test")[0] == 250
    for i in range(100):
        assert c.cmd(("NOOP", "RSET", "HELP", "VRFY x@y")[i % 4])[0] in (250, 214, 252)
    c.send("MAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert c.cmd("Subject: x\r\n\r\nhi\r\n.")[0] == 250
    for _ in range(100):
        assert c.cmd("NOOP")[0] == 250
    codes = [c.cmd("NOOP")[0] for _ in range(9)]
    assert codes == [250] * 9
    c.send("NOOP\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 421


def test_greetings_past_the_second_are_junk(raw, server):
    """EHLO resets the transaction: EHLO, MAIL, RCPT, EHLO... moved
    nothing forward and counted nowhere. Two greetings are needed (before
    and after STARTTLS); the others count as junk commands."""
    c = raw()
    for _ in range(102):
        assert c.cmd("EHLO client.test")[0] == 250
    for _ in range(9):
        assert c.cmd("EHLO client.test")[0] == 250
    c.send("EHLO client.test\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 421
