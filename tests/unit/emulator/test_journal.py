"""The intent journal in one process: failures undone, the lock shared by threads, leftovers
settled by a changing command too (kills at every point: test_crashes.py)."""

from __future__ import annotations

import errno
import json
import logging
import os
import threading

from tests.helpers import ok
from tests.unit.emulator.test_crashes import _killed_at

from gpfskit.emulator import fsck, journal, lockfile, state
from gpfskit.emulator.steps import MakeDir, Scratch


def test_a_step_that_fails_undoes_the_steps_before_it(mm, emulator_root, mp, monkeypatch):
    ok(mm("mmcrfileset", "mmfs1", "ind", "--inode-space", "new", "-J", str(mp / "ind")))
    os.symlink("target", mp / "ind" / "link")
    calls = []
    real = os.symlink

    def second_fails(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:   # the second copy (the fileset snapshot) runs out of space
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, "symlink", second_fails)
    result = mm("mmcrsnapshot", "mmfs1", "s1,ind:s2")
    assert result.returncode == 1 and "No space left on device" in result.stderr
    assert not (mp / ".snapshots").exists()           # the first copy is gone too
    assert not (mp / "ind" / ".snapshots").exists()
    assert "No snapshots" in mm("mmlssnapshot", "mmfs1").stdout
    assert state.connection(emulator_root).execute(
        "SELECT count(*) FROM intents").fetchone()[0] == 0
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN


def test_threads_of_one_process_take_turns(mm, emulator_root, mp):
    from gpfskit.emulator.dispatch import run_command

    failures = []

    def create(prefix: str) -> None:
        for i in range(8):
            result = run_command(["mmcrfileset", "mmfs1", f"{prefix}{i}", "-J",
                                  str(mp / f"{prefix}{i}")], root=emulator_root)
            if result.returncode:
                failures.append(result.stderr)
        state.forget_connections()

    threads = [threading.Thread(target=create, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    listing = mm("mmlsfileset", "mmfs1", "-Y").stdout
    ids = [line.split(":")[8] for line in listing.splitlines() if ":HEADER:" not in line]
    assert len(ids) == 17 and len(set(ids)) == 17
    assert all((mp / f"{p}{i}").is_dir() for p in "ab" for i in range(8))


def test_a_busy_lock_is_a_clear_refusal(mm, emulator_root):
    from gpfskit.emulator.dispatch import run_command

    taken, done = threading.Event(), threading.Event()

    def holder() -> None:   # another thread (its own lock descriptor) holds the lock
        with lockfile.CommandLock(emulator_root):
            taken.set()
            done.wait(10)
        state.forget_connections()

    thread = threading.Thread(target=holder)
    thread.start()
    taken.wait(10)
    result = run_command(["mmcrfileset", "mmfs1", "waits"], root=emulator_root, lock_wait=0.2)
    assert "Fileset" in mm("mmlsfileset", "mmfs1").stdout   # reading is not blocked
    done.set()
    thread.join()
    assert result.returncode == 16
    assert result.stderr.startswith("mmcrfileset: Waited 0.2 s for another command changing "
                                    "the cluster")
    assert "(it holds the cluster's command lock)" in result.stderr
    ok(mm("mmcrfileset", "mmfs1", "waits"))


def test_a_changing_command_settles_what_a_killed_one_left(mm, emulator_root, mp, caplog):
    ok(mm("mmcrfileset", "mmfs1", "f", "-J", str(mp / "f")))
    assert _killed_at(emulator_root, ["mmunlinkfileset", "mmfs1", "f"], 2)   # after the move
    assert not (mp / "f").exists()
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "g"))
    [line] = [r.message for r in caplog.records]
    assert line.startswith("interrupted command 'mmunlinkfileset mmfs1 f' (pid ")
    assert line.endswith("rolled back (its changes on disk undone)")
    assert (mp / "f").is_dir()
    assert "Linked" in mm("mmlsfileset", "mmfs1", "f").stdout
    ok(mm("mmunlinkfileset", "mmfs1", "f"))


def test_a_snapshot_name_too_long_in_bytes_is_refused_before_copying(mm, mp):
    (mp / "data.txt").write_text("x\n")
    name = "é" * 130    # 130 characters, 260 bytes
    result = mm("mmcrsnapshot", "mmfs1", name)
    assert result.returncode == 22 and "260 bytes" in result.stderr
    assert not (mp / ".snapshots").exists()


def test_an_undo_blocked_by_something_new_is_refused_not_claimed(mm, emulator_root, mp):
    ok(mm("mmcrfileset", "mmfs1", "f", "-J", str(mp / "f")))
    (mp / "f" / "kept.txt").write_text("data\n")
    assert _killed_at(emulator_root, ["mmunlinkfileset", "mmfs1", "f"], 2)   # after the move
    (mp / "f").mkdir()
    (mp / "f" / "new.txt").write_text("someone's new file\n")   # in the way of the undo
    refused = mm("mmcrfileset", "mmfs1", "g")
    assert refused.returncode == 1 and "something new is in the way" in refused.stderr
    assert "gpfskit emulator fsck" in refused.stderr
    report = fsck.check(emulator_root, repair=True)
    assert report.exit_code == fsck.LEFT and "the repair failed" in "\n".join(report.lines())
    (mp / "f" / "new.txt").unlink()
    (mp / "f").rmdir()
    assert fsck.check(emulator_root, repair=True).exit_code == fsck.REPAIRED
    assert (mp / "f" / "kept.txt").read_text() == "data\n"
    ok(mm("mmcrfileset", "mmfs1", "g"))


def _lock_record(root) -> bytes:
    """The intent in the lock file, as another process reads it."""
    fd = os.open(root / lockfile.LOCK_NAME, os.O_RDONLY)
    try:
        return lockfile.read_intent(fd)
    finally:
        os.close(fd)


def test_the_intent_is_in_the_lock_file_only_while_its_command_runs(mm, emulator_root, mp):
    ok(mm("mmcrfileset", "mmfs1", "f", "-J", str(mp / "f")))
    assert _lock_record(emulator_root) == b""
    assert _killed_at(emulator_root, ["mmunlinkfileset", "mmfs1", "f"], 2)   # after the move
    record = _lock_record(emulator_root)
    assert b"'argv': ['mmunlinkfileset', 'mmfs1', 'f']" in record and b"'op': 'rename'" in record
    ok(mm("mmlsfileset", "mmfs1"))                    # settled (rolled back) and cleared
    assert _lock_record(emulator_root) == b"" and (mp / "f").is_dir()


def test_a_command_killed_after_its_commit_is_not_rolled_back(mm, emulator_root, mp, caplog):
    """Its intent is still in the lock file, but the committed token says the state is
    there: the next command clears it quietly (nothing is left to do for a rename)."""
    ok(mm("mmcrfileset", "mmfs1", "f", "-J", str(mp / "f")))
    point = 3   # 1 the intent, 2 the move, 3 just before the commit, 4 just after it
    assert _killed_at(emulator_root, ["mmunlinkfileset", "mmfs1", "f"], point + 1)
    assert _lock_record(emulator_root) != b""
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "g"))
    assert [r.message for r in caplog.records] == []
    assert _lock_record(emulator_root) == b""
    assert "Unlinked" in mm("mmlsfileset", "mmfs1", "f").stdout and not (mp / "f").exists()


def test_a_torn_intent_is_settled_as_a_command_that_changed_nothing(mm, emulator_root, caplog):
    """A line that does not parse (an older build killed while writing its intent, which
    it did before changing anything) is settled with nothing to undo."""
    (emulator_root / lockfile.LOCK_NAME).write_bytes(b'{"token":"0123","argv":["mmcr\n')
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "g"))
    [line] = [r.message for r in caplog.records]
    assert "killed while recording its intent" in line and "rolled back" in line
    assert _lock_record(emulator_root) == b""
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN


def _intent(path, encode=repr) -> bytes:
    """The line a command that made the directory ``path`` would have left."""
    record = {"token": "feed", "argv": ["mmtest", "made", str(path)], "pid": 4711,
              "steps": [MakeDir(str(path)).record()], "later": []}
    return encode(record).encode() + b"\n"


def _write_at(path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_an_intent_is_published_by_its_first_byte(mm, emulator_root, mp, caplog):
    """The intent is written behind an empty byte 0, which is stored last: a command killed
    before that store had recorded nothing (and changed nothing); once stored, the whole
    intent stands and is rolled back."""
    lock = emulator_root / lockfile.LOCK_NAME
    made = mp / "made"
    made.mkdir()
    line = _intent(made)
    _write_at(lock, 1, line[1:])                      # killed just before the last store
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "g"))
    assert caplog.records == [] and made.is_dir()
    _write_at(lock, 0, line)                          # the same intent, published
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "h"))
    [logged] = [r.message for r in caplog.records]
    assert "'mmtest made" in logged and "rolled back" in logged and not made.exists()
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN


def test_an_intent_in_the_json_of_earlier_builds_is_settled(mm, emulator_root, mp, caplog):
    made = mp / "made"
    made.mkdir()
    (emulator_root / lockfile.LOCK_NAME).write_bytes(_intent(made, json.dumps))
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmlsfileset", "mmfs1"))               # a reading command settles it too
    [logged] = [r.message for r in caplog.records]
    assert "rolled back" in logged and not made.exists()
    assert _lock_record(emulator_root) == b""


def test_a_short_lock_file_of_an_older_build_is_lengthened_and_looked_through(
        mm, emulator_root):
    """A lock file shorter than a page cannot be mapped: the next changing command lengthens
    it (nothing in it overwritten), and since nothing then tells whether a job left an intent
    it looks in the ``intents`` table once, then clears the jobs mark."""
    lock = emulator_root / lockfile.LOCK_NAME
    lock.write_bytes(b"\n")
    ok(mm("mmcrfileset", "mmfs1", "g"))
    data = lock.read_bytes()
    assert len(data) == lockfile.LOCK_PAGE and data[-1] == 0
    assert _lock_record(emulator_root) == b""


def test_a_job_sets_the_jobs_mark_and_the_next_changing_command_clears_it(
        mm, emulator_root, mp, tmp_path):
    policy = tmp_path / "list.pol"
    policy.write_text("RULE 'all' LIST 'all'\n")
    (mp / "a.dat").write_text("x")
    lock = emulator_root / lockfile.LOCK_NAME
    assert lock.read_bytes()[-1] == 0
    ok(mm("mmapplypolicy", "mmfs1", "-P", str(policy), "-I", "defer",
          "-f", str(tmp_path / "out")))
    assert lock.read_bytes()[-1] != 0                 # a job ran: its row may be left
    assert state.connection(emulator_root).execute(
        "SELECT count(*) FROM intents").fetchone()[0] == 0
    ok(mm("mmcrfileset", "mmfs1", "g"))               # looked, found none: cleared
    assert lock.read_bytes()[-1] == 0


def _long_intent_left(emulator_root, mp) -> list:
    """An ``mmchattr`` of 40 files killed after 9: an intent longer than the lock page."""
    files = []
    for i in range(40):
        path = mp / f"file-with-a-rather-long-name-{i:03d}.dat"
        path.write_text("x")
        files.append(path)
    assert _killed_at(emulator_root, ["mmchattr", "--set-attr", "user.tag=x",
                                      *map(str, files)], 10)
    assert len(_lock_record(emulator_root)) > lockfile.LOCK_PAGE
    return files


def _tagged(files) -> list:
    return [path for path in files if "user.tag" in os.listxattr(path)]


def test_an_intent_longer_than_the_lock_page_is_undone_whole(mm, emulator_root, mp):
    """It runs over the jobs mark: the next command leaves that byte alone."""
    files = _long_intent_left(emulator_root, mp)
    assert len(_tagged(files)) == 9
    ok(mm("mmcrfileset", "mmfs1", "g"))
    assert _tagged(files) == [] and _lock_record(emulator_root) == b""
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN


def test_a_job_that_starts_beside_a_long_intent_leaves_it_whole(mm, emulator_root, mp,
                                                                 tmp_path):
    files = _long_intent_left(emulator_root, mp)
    lock = emulator_root / lockfile.LOCK_NAME
    left = lock.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    with journal.running_job(emulator_root, ["mmapplypolicy"], Scratch(str(work))):
        pass
    assert not work.exists() and lock.read_bytes() == left
    ok(mm("mmlsfileset", "mmfs1"))
    assert _tagged(files) == [] and _lock_record(emulator_root) == b""
