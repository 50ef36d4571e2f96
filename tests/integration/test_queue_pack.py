"""Queue packs: the small entries of one commit batch in one file.

When the commit thread makes several accepted messages durable together,
the queue entries of the small ones are written into one file (format 3,
a "pack") hard-linked under each entry's name <qid>.msg; their later
envelopes are records appended to the pack's shared tail, each naming
its entry (src/queue/queue_file.h). These tests make packs by sending
messages from several clients at once, then check that each packed
entry behaves as an entry of its own: listed, shown, deferred, deleted,
quarantined, delivered, and removed with its name, the file going with
the last one.
"""
import os
import re
import smtplib
import threading
import time

from test_delivery import strip_trace, wait_queue_empty, wait_until, world  # noqa: F401 (fixture)

# Generous: CI runs these under ASan and valgrind too.
SLOW = 5 if os.environ.get("FACTEUR_VALGRIND") else 1
BURST = 12          # clients sending at once
TRIES = 6           # bursts until a pack forms (it is a matter of timing)


def setup_world(world, n, extra=None):
    """The sender, with aliases p<i>@example.test -> r<i>@remote.test for
    i < n (each message its own recipient) and room for a burst's
    connections from one address."""
    conf = {"limits.max_connections_per_ip": "200"}
    conf.update(extra or {})
    w = world.setup(extra=conf, start=False)
    w.f.set_aliases("fwd@example.test: someone@remote.test\n" +
                    "".join(f"p{i}@example.test: r{i}@remote.test\n" for i in range(n)))
    w.f.start()
    return w


def message(tag, i, pad=0):
    """Message i of a test: its own subject, id and body (longer by at
    least pad bytes of filler lines)."""
    return (f"From: stranger@elsewhere.test\r\nTo: p{i}@example.test\r\n"
            f"Subject: pack {tag} {i}\r\nMessage-ID: <{tag}.{i}@elsewhere.test>\r\n\r\n"
            + "".join(f"message {i} of {tag}, line {j}\r\n" for j in range(1 + i % 7))
            + "".join(f"{tag} {i} {j:05d} {'x' * 60}\r\n" for j in range((pad + 77) // 78))
            ).encode()


def as_sent(content):
    """The message as the client sent it: without the header fields the
    server prepends to mail from other servers (Authentication-Results:,
    then Received:, as strip_trace() sees them)."""
    lines = content.split(b"\r\n")
    assert lines[0].startswith(b"Authentication-Results: "), content[:300]
    i = 1
    while lines[i].startswith(b"\t"):
        i += 1
    return strip_trace(b"\r\n".join(lines[i:]))


def burst(f, tag, indexes, pad=0):
    """Sends message(tag, i, pad) to p<i>@example.test for each i, each from
    its own connection, all DATA bodies released at the same moment so
    that the commit thread takes them in one batch. Returns {i: qid}."""
    barrier = threading.Barrier(len(indexes))
    qids, errors = {}, []

    def one(i):
        try:
            with smtplib.SMTP(*f.addr("smtp"), timeout=60 * SLOW) as s:
                s.ehlo("client.test")
                assert s.mail("stranger@elsewhere.test")[0] == 250
                assert s.rcpt(f"p{i}@example.test")[0] == 250
                s.putcmd("data")
                assert s.getreply()[0] == 354
                barrier.wait(timeout=60 * SLOW)
                s.send(message(tag, i, pad) + b".\r\n")
                code, text = s.getreply()
                assert code == 250, (code, text)
                m = re.search(rb"queued as ([0-9a-f]{16})", text)
                assert m, text
                qids[i] = m.group(1).decode()
        except BaseException as e:          # noqa: BLE001 (reported below)
            errors.append((i, repr(e)))
            barrier.abort()

    threads = [threading.Thread(target=one, args=(i,)) for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120 * SLOW)
    assert not errors, errors
    assert sorted(qids) == sorted(indexes)
    return qids


def queue_dir(f):
    return f.data_dir / "queue"


def packs(f):
    """{inode: [qid, ...]} of the .msg names that are links to a pack."""
    out = {}
    for p in queue_dir(f).glob("*.msg"):
        try:
            st = p.stat()
            with open(p, "rb") as fh:
                head = fh.read(14)
        except FileNotFoundError:
            continue
        if st.st_nlink > 1 and head == b"facteur-msg 3 ":
            out.setdefault(st.st_ino, []).append(p.stem)
    return {ino: sorted(q) for ino, q in out.items()}


def burst_until_packed(f, tag, size=BURST, at_least=0):
    """Bursts of `size` messages until at least one pack holds two of
    them and `at_least` messages were sent. Returns ({i: qid}, packs)."""
    qids = {}
    for _ in range(TRIES + at_least // size):
        qids.update(burst(f, tag, range(len(qids), len(qids) + size)))
        found = {ino: q for ino, q in packs(f).items() if set(q) & set(qids.values())}
        if found and len(qids) >= at_least:
            return qids, found
    raise AssertionError(f"no pack formed in {len(qids)} messages sent in bursts of {size}:\n"
                         f"{f.log()[-3000:]}")


def linked_files(f):
    """The files of queue/ (not tmp/'s) that have more than one name."""
    return [p.name for p in queue_dir(f).iterdir() if p.is_file() and p.stat().st_nlink > 1]


def queue_listing(f):
    """What queue/ holds, tmp/'s contents included, except the spares
    that retired entries leave for the next ones (test_queue_spare.py)."""
    q = queue_dir(f)
    return sorted(str(p.relative_to(q)) for p in q.rglob("*")
                  if not (p.parent.name == "tmp" and p.name.startswith("spare.")))


def wait_deferred(f, qids, attempts, timeout=30):
    """Until the log says that each entry was deferred `attempts` times."""
    for qid in qids:
        f.wait_log(rf"event=deferred qid={qid} .*attempts={attempts}\b", timeout=timeout * SLOW)


def check_arrived(sink, tag, qids, at_least=False, pad=0):
    """Each message i arrived (exactly once unless at_least), intact, for
    its own recipient."""
    got = {}
    for mail_from, rcpts, content, _ in sink.messages:
        m = re.search(rb"Subject: pack (\S+) (\d+)\r\n", content)
        assert m, content[:500]
        if m.group(1).decode() != tag:
            continue
        i = int(m.group(2))
        assert mail_from == "stranger@elsewhere.test"
        assert rcpts == [f"r{i}@remote.test"], (i, rcpts)
        assert as_sent(content) == message(tag, i, pad), i
        got[i] = got.get(i, 0) + 1
    assert sorted(got) == sorted(qids), (sorted(got), sorted(qids))
    if not at_least:
        assert all(n == 1 for n in got.values()), {i: n for i, n in got.items() if n != 1}


def test_packed_entries_are_listed_shown_and_delivered_once(world, sinks):
    """A burst of clients while the receiver is down leaves entries that
    share one file: each is still an entry of its own for `queue list`
    and `queue show` (its own envelope and Subject, found through the
    pack's index), each is delivered exactly once with its own content
    and recipient once the receiver is back, and the pack goes with the
    last entry's name: nothing is left in queue/, no file with links."""
    w = setup_world(world, 200)
    empty = queue_listing(w.f)
    qids, found = burst_until_packed(w.f, "list")
    packed = [q for group in found.values() for q in group]
    assert len(packed) >= 2
    listing = w.f.cli("queue", "list").stdout
    assert f"{len(qids)} messages in the queue" in listing, listing
    for i, qid in qids.items():
        assert re.search(rf"^{qid}  age .*from <stranger@elsewhere\.test>", listing, re.M), qid
        block = listing.split(qid, 1)[1].split("\n", 2)[1]
        assert f"r{i}@remote.test" in block, (qid, block)
    by_qid = {qid: i for i, qid in qids.items()}
    for qid in packed:
        show = w.f.cli("queue", "show", qid).stdout
        i = by_qid[qid]
        assert show.startswith(qid), show
        assert f"r{i}@remote.test" in show and f"\nSubject: pack list {i}\n" in show, show
        assert "facteur-msg" not in show and "facteur-env" not in show, show
        env, msg, _ = w.f.queue_entry_records(qid)
        assert f"\nqid {qid}\n" in env
        assert as_sent(msg) == message("list", i)
    sink = sinks("127.0.0.2", w.port)
    assert w.f.cli("queue", "flush").stdout.startswith("ok")
    sink.wait(len(qids), timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    time.sleep(0.5)                     # anything sent twice would be in by now
    check_arrived(sink, "list", qids)
    for qid in qids.values():
        assert len(re.findall(rf"event=sent qid={qid} ", w.f.log())) == 1, qid
    wait_until(lambda: queue_listing(w.f) == empty,
               f"queue/ holds {queue_listing(w.f)}, was {empty}", timeout=10 * SLOW)
    assert linked_files(w.f) == []


def pack_records(path):
    """The records of a pack, in order: [(qid named, envelope text)]. Read
    here independently of the C code (src/queue/queue_file.c)."""
    import zlib
    data = path.read_bytes()
    m = re.match(rb"facteur-msg 3 (\d{10}) (\d{20})\n", data)
    assert m, data[:60]
    count, tail = int(m[1]), data[int(m[2]):]
    index = data[m.end():m.end() + count * 38]
    names = [line[:16].decode() for line in index.split(b"\n")[:-1]]
    out, seq = [], 0
    while h := re.fullmatch(rb"facteur-env (\d{10}) (\d{10}) ([0-9a-f]{8})\n", tail[:43]):
        size = int(h[2])
        text = tail[43:43 + size]
        assert int(h[1]) == seq + 1 and len(text) == size
        assert zlib.crc32(text, zlib.crc32(tail[:34])) == int(h[3], 16)
        k = re.match(rb"facteur-queue 1\nqid ([0-9a-f]{16})\n", text)
        assert k, text[:60]
        out.append((k[1].decode(), text.decode()))
        seq, tail = seq + 1, tail[43 + size:]
    assert tail == b"", tail[:100]         # nothing after the records
    return names, out


def test_deferrals_of_packed_entries_are_records_naming_each(world, sinks):
    """A deferral of a packed entry appends its new envelope to the pack's
    shared tail as a record naming the entry (no .env, no rewrite): each
    entry's state is the last record that names it, its attempts are
    counted by its own records and not by its neighbours', and after a
    restart each entry resumes from its own state and is delivered once
    (attempts in the event=sent line: its records + 1)."""
    w = setup_world(world, 200)
    qids, found = burst_until_packed(w.f, "defer")
    wait_deferred(w.f, qids.values(), 2)
    w.f.stop()
    q = queue_dir(w.f)
    records = {}
    for i, qid in qids.items():
        env, msg, n = w.f.queue_entry_records(qid)
        assert not (q / f"{qid}.env").exists(), qid
        assert env.startswith(f"facteur-queue 1\nqid {qid}\n"), env
        [rcpt] = [line.split() for line in env.splitlines() if line.startswith("rcpt ")]
        assert rcpt[1] == "pending" and rcpt[4] == f"r{i}@remote.test", rcpt
        assert n >= 2 and int(rcpt[2]) == n, (qid, n, env)
        assert as_sent(msg) == message("defer", i)
        records[qid] = n
    # Each pack is still one file under every name, and its records are
    # its entries' own: none lost, none naming another pack's entry.
    for ino, group in found.items():
        for qid in group:
            st = (q / f"{qid}.msg").stat()
            assert (st.st_ino, st.st_nlink) == (ino, len(group)), qid
        names, recs = pack_records(q / f"{group[0]}.msg")
        assert sorted(names) == group
        assert sorted({qid for qid, _ in recs}) == group
        assert len(recs) == sum(records[qid] for qid in group)
    sink = sinks("127.0.0.2", w.port)
    w.f.start()
    sink.wait(len(qids), timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    time.sleep(0.5)
    check_arrived(sink, "defer", qids)
    log = w.f.log()
    for qid, n in records.items():
        assert log.count(f"event=sent qid={qid} ") == 1, qid
        assert re.search(rf"event=sent qid={qid} .*attempts={n + 1}\b", log), (qid, n)
    wait_until(lambda: linked_files(w.f) == [] and not list(q.glob("*.env")),
               f"files left: {queue_listing(w.f)}", timeout=10 * SLOW)


def test_deleting_one_packed_entry_leaves_the_others(world, sinks):
    """`facteur queue delete` with the server stopped unlinks the entry's
    name, not the pack: the other entries of the same file (same inode,
    one name fewer) are still listed and delivered once the server runs
    again, and the deleted message never goes out."""
    w = setup_world(world, 200)
    qids, found = burst_until_packed(w.f, "del")
    w.f.stop()
    ino, group = max(found.items(), key=lambda kv: len(kv[1]))
    q = queue_dir(w.f)
    victim = group[len(group) // 2]
    others = [qid for qid in group if qid != victim]
    r = w.f.cli("queue", "delete", victim)
    assert f"ok deleted {victim}" in r.stdout, r.stdout + r.stderr
    assert not (q / f"{victim}.msg").exists()
    for qid in others:
        st = (q / f"{qid}.msg").stat()
        assert (st.st_ino, st.st_nlink) == (ino, len(group) - 1), qid
    listing = w.f.cli("queue", "list").stdout
    assert f"{len(qids) - 1} messages in the queue" in listing, listing
    assert victim not in listing
    assert all(qid in listing for qid in qids.values() if qid != victim), listing
    assert w.f.cli("queue", "show", victim, check=False).returncode == 1
    by_qid = {qid: i for i, qid in qids.items()}
    for qid in others:
        show = w.f.cli("queue", "show", qid).stdout
        assert f"\nSubject: pack del {by_qid[qid]}\n" in show, show
    sink = sinks("127.0.0.2", w.port)
    since = len(w.f.log())
    w.f.start()
    w.f.wait_log(rf"event=queue-loaded entries={len(qids) - 1}\b", since=since)
    sink.wait(len(qids) - 1, timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    time.sleep(1)                       # the deleted one would be in by now
    kept = {i: qid for i, qid in qids.items() if qid != victim}
    check_arrived(sink, "del", kept)
    assert f"qid={victim}" not in w.f.log()[since:]
    wait_until(lambda: linked_files(w.f) == [], f"files left: {queue_listing(w.f)}",
               timeout=10 * SLOW)


def test_kill9_while_packs_drain_loses_nothing(world, sinks):
    """Killed (SIGKILL) while a slow receiver drains a backlog of packed
    entries, packs still linked under the names not yet delivered: after a
    restart every message reaches the receiver (twice at worst, for one
    in flight at the kill, never zero times), intact, and the queue ends
    empty, packs included."""
    w = setup_world(world, 400)
    empty = queue_listing(w.f)
    qids, found = burst_until_packed(w.f, "kill", size=15, at_least=30)
    wait_deferred(w.f, qids.values(), 1)
    sink = sinks("127.0.0.2", w.port, data_delay=0.3)
    assert w.f.cli("queue", "flush").stdout.startswith("ok")
    wait_until(lambda: len(sink.messages) >= 4, "nothing delivered", timeout=30 * SLOW)
    w.f.kill9()
    left = w.f.queue_ids()
    assert left, "everything was delivered before the kill"
    assert packs(w.f), "no pack left at the kill"
    print(f"kill9 with {len(left)} of {len(qids)} entries left, "
          f"{len(packs(w.f))} packs linked")
    w.f.start()
    wanted = set(qids)

    def all_in():
        got = set()
        for _, _, content, _ in list(sink.messages):
            m = re.search(rb"Subject: pack kill (\d+)\r\n", content)
            if m:
                got.add(int(m.group(1)))
        return got >= wanted

    wait_until(all_in, "not every message arrived", timeout=90 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    check_arrived(sink, "kill", qids, at_least=True)
    wait_until(lambda: queue_listing(w.f) == empty,
               f"queue/ holds {queue_listing(w.f)}, was {empty}", timeout=10 * SLOW)


def test_a_damaged_index_line_quarantines_only_its_entry(world, sinks):
    """A pack whose index line for its first entry is damaged (its offset
    no longer a number): that entry cannot be found in its pack and is
    quarantined at startup (<qid>.msg.bad, event=queue-corrupt), like
    any damaged entry; the other entries of the same file do not depend
    on that line and are delivered. (A damaged line also makes the
    entry before it unreadable, whose end it gives: the first has none;
    tests/unit/test_queue_pack.c covers the others.)"""
    w = setup_world(world, 200)
    empty = queue_listing(w.f)
    qids, found = burst_until_packed(w.f, "bad")
    w.f.stop()
    ino, group = max(found.items(), key=lambda kv: len(kv[1]))
    q = queue_dir(w.f)
    data = (q / f"{group[0]}.msg").read_bytes()
    count = int(data[14:24])
    index = data[46:46 + count * 38]
    victim, at = index[:16].decode(), 0
    assert victim in group, index
    path = q / f"{victim}.msg"
    with open(path, "r+b") as fh:                   # in place: every name sees it
        fh.seek(46 + at + 17)
        fh.write(b"12x4567890abcdefzzzz")
    assert (q / f"{group[0]}.msg").read_bytes()[46 + at + 17:46 + at + 37] == \
        b"12x4567890abcdefzzzz"
    sink = sinks("127.0.0.2", w.port)
    since = len(w.f.log())
    w.f.start()
    w.f.wait_log(rf"event=queue-corrupt .*{victim}\.msg: unreadable envelope, moved to "
                 rf"\.msg\.bad", since=since)
    w.f.wait_log(rf"event=queue-loaded entries={len(qids) - 1}\b", since=since)
    sink.wait(len(qids) - 1, timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    time.sleep(1)
    kept = {i: qid for i, qid in qids.items() if qid != victim}
    check_arrived(sink, "bad", kept)
    assert f"qid={victim}" not in w.f.log()[since:]
    bad = q / f"{victim}.msg.bad"
    wait_until(lambda: queue_listing(w.f) == sorted(empty + [bad.name]),
               f"queue/ holds {queue_listing(w.f)}", timeout=10 * SLOW)
    st = bad.stat()
    assert (st.st_ino, st.st_nlink) == (ino, 1)     # the pack, kept whole for the operator
    assert bad.read_bytes().startswith(b"facteur-msg 3 ")
