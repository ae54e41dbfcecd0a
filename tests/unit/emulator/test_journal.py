"""The intent journal in one process: failures undone, the lock shared by threads, leftovers
settled by a changing command too (kills at every point: test_crashes.py)."""

from __future__ import annotations

import errno
import logging
import os
import threading

from tests.helpers import ok
from tests.unit.emulator.test_crashes import _killed_at

from gpfskit.emulator import fsck, state


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
        with state.command_lock(emulator_root):
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
    return (root / state.LOCK_NAME).read_bytes().partition(b"\n")[0]


def test_the_intent_is_in_the_lock_file_only_while_its_command_runs(mm, emulator_root, mp):
    ok(mm("mmcrfileset", "mmfs1", "f", "-J", str(mp / "f")))
    assert _lock_record(emulator_root) == b""
    assert _killed_at(emulator_root, ["mmunlinkfileset", "mmfs1", "f"], 2)   # after the move
    record = _lock_record(emulator_root)
    assert b'"argv":["mmunlinkfileset","mmfs1","f"]' in record and b'"op":"rename"' in record
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
    """A kill in the middle of writing the intent: what is on the first line does not
    parse, and that command had not changed anything yet."""
    (emulator_root / state.LOCK_NAME).write_bytes(b'{"token":"0123","argv":["mmcr\n')
    with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
        ok(mm("mmcrfileset", "mmfs1", "g"))
    [line] = [r.message for r in caplog.records]
    assert "killed while recording its intent" in line and "rolled back" in line
    assert _lock_record(emulator_root) == b""
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN
