"""Spare queue files: a retired entry's file is kept for the next ones.

Freeing a file's blocks is the dear part of removing a delivered entry
(on a file system mounted with "discard", a synchronous discard per
file), so the runner renames the last name of a retired entry's file
into queue/tmp/ as spare.<n>, and the commit thread writes the next
small entry or pack over a spare instead of creating a file, once queue/
was fsynced after the spare was made (src/queue/queue_spare.h). These tests check that delivered files become
spares, that entries written over them are read (listed, shown,
delivered) with exactly their own bytes, and that no spare outlives the
process: freed at a clean stop, and queue/tmp/ emptied at startup after
a kill.
"""
import os
import re
import time

from test_delivery import wait_queue_empty, wait_until, world  # noqa: F401 (fixture)
from test_queue_pack import (SLOW, as_sent, burst, burst_until_packed, check_arrived, message,
                             queue_dir, setup_world, wait_deferred)


PAD = 40000         # the second burst's messages: bigger than the drain's files


def on_tmpfs(path):
    """facteur keeps no spares in memory file systems (nothing to save)."""
    with open("/proc/mounts") as fh:
        mounts = [line.split() for line in fh]
    best = max((m for m in mounts if str(path).startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]))
    return best[2] in ("tmpfs", "ramfs")


def spares(f):
    """{inode: name} of the spares in queue/tmp/."""
    out = {}
    for p in (queue_dir(f) / "tmp").glob("spare.*"):
        try:
            out[p.stat().st_ino] = p.name
        except FileNotFoundError:
            pass
    return out


def entry_inodes(f):
    """{qid: inode} of the queue's entries."""
    out = {}
    for p in queue_dir(f).glob("*.msg"):
        try:
            out[p.stem] = p.stat().st_ino
        except FileNotFoundError:
            pass
    return out


def drain(w, sink, qids):
    assert w.f.cli("queue", "flush").stdout.startswith("ok")
    sink.wait(len(qids), timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)


def test_delivered_files_become_spares_and_carry_the_next_entries(world, sinks):
    """A backlog drained leaves its files as spares in queue/tmp/ (one
    name each, no entry listed); the first entry after is a new file
    (no fsync of queue/ since the removals yet), the next ones are
    written over spares (same inodes), and each reads back exactly its own envelope and
    message, the old bytes past it cut: shown, recorded, delivered once
    and intact. A clean stop frees every spare."""
    w = setup_world(world, 200)
    if on_tmpfs(w.f.data_dir):
        import pytest
        pytest.skip("data_dir on tmpfs: no spares by design")
    qids, _ = burst_until_packed(w.f, "sp1")
    wait_deferred(w.f, qids.values(), 1)
    files = set(entry_inodes(w.f).values())
    sink = sinks("127.0.0.2", w.port)
    drain(w, sink, qids)
    check_arrived(sink, "sp1", qids)
    wait_until(lambda: spares(w.f), "no spare left by the drain", timeout=10 * SLOW)
    kept = spares(w.f)
    # Only the drained files (each its last name gone), at most one each.
    assert set(kept) <= files, (kept, files)
    for name in kept.values():
        st = (queue_dir(w.f) / "tmp" / name).stat()
        assert st.st_nlink == 1 and st.st_size < PAD, (name, st)
    assert "0 messages in the queue" in w.f.cli("queue", "list").stdout
    assert not list(queue_dir(w.f).glob("*.msg"))

    # The next messages, the receiver down: written over the spares once
    # a commit has fsynced queue/ (the first message's), never before
    # (a crash could bring a retired name back: its bytes must be its).
    # 40 KB each: whatever the commit batches, any entry or pack of them
    # fills any spare of the drain (a writer takes only a spare that its
    # bytes fill, so that cutting it frees no block).
    sink.stop()
    qids2 = burst(w.f, "sp2", [0], pad=PAD)
    assert entry_inodes(w.f)[qids2[0]] not in kept
    qids2.update(burst(w.f, "sp2", range(1, len(kept) + 5), pad=PAD))
    wait_deferred(w.f, qids2.values(), 1)
    reused = set(entry_inodes(w.f).values()) & set(kept)
    assert reused, (entry_inodes(w.f), kept)
    assert len(spares(w.f)) < len(kept)
    listing = w.f.cli("queue", "list").stdout
    assert f"{len(qids2)} messages in the queue" in listing, listing
    for i, qid in qids2.items():
        show = w.f.cli("queue", "show", qid).stdout
        assert f"r{i}@remote.test" in show and f"\nSubject: pack sp2 {i}\n" in show, show
        env, msg, n = w.f.queue_entry_records(qid)     # asserts nothing follows the records
        assert env.startswith(f"facteur-queue 1\nqid {qid}\n") and n >= 1, env
        assert as_sent(msg) == message("sp2", i, PAD)
    sink2 = sinks("127.0.0.2", w.port)
    drain(w, sink2, qids2)
    time.sleep(0.5)                     # anything sent twice would be in by now
    check_arrived(sink2, "sp2", qids2, pad=PAD)
    for qid in qids2.values():
        assert w.f.log().count(f"event=sent qid={qid} ") == 1, qid

    w.f.stop()
    assert spares(w.f) == {}, "spares left after a clean stop"


def test_spares_do_not_outlive_a_kill(world, sinks):
    """Killed (SIGKILL) with spares in queue/tmp/: the next start empties
    queue/tmp/ (event=cleanup counts them) before anything is written,
    and mail flows as before."""
    w = setup_world(world, 200)
    if on_tmpfs(w.f.data_dir):
        import pytest
        pytest.skip("data_dir on tmpfs: no spares by design")
    qids = burst(w.f, "sp3", range(8))
    wait_deferred(w.f, qids.values(), 1)
    sink = sinks("127.0.0.2", w.port)
    drain(w, sink, qids)
    wait_until(lambda: spares(w.f), "no spare left by the drain", timeout=10 * SLOW)
    n = len(spares(w.f))
    w.f.kill9()
    assert len(spares(w.f)) == n
    since = len(w.f.log())
    w.f.start()
    m = re.search(r"event=cleanup maildir_tmp=\d+ queue_tmp=(\d+)", w.f.log()[since:])
    assert m and int(m[1]) >= n, w.f.log()[since:]
    assert spares(w.f) == {}
    qids2 = burst(w.f, "sp4", range(4))
    sink.wait(len(qids) + len(qids2), timeout=60 * SLOW)
    wait_queue_empty(w.f, timeout=60 * SLOW)
    check_arrived(sink, "sp4", qids2)
    assert os.path.isdir(queue_dir(w.f) / "tmp")
