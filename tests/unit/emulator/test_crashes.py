"""Fault injection: every changing command killed (SIGKILL) at every journal point.

Each command runs in a forked child with ``GPFSKIT_EMULATOR_CRASH_AT=N`` for N = 1, 2, ...
until it completes. After each kill: the next command (a reading one) settles the leftover
intent, fsck finds nothing, the cluster is exactly as before the command (rolled back) or as
after it (rolled forward), and after a rollback a rerun of the command succeeds.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.helpers import cluster_files, ok

from gpfskit.emulator import fileattrs, fsck, journal, state
from gpfskit.emulator.dispatch import run_command

Action = Callable[[Callable, Path], None]


def _nothing(mm, mp: Path) -> None:
    pass


@dataclass
class Scenario:
    argv: list[str]                     # "{mp}" is replaced by the mount point
    setup: Action = _nothing
    reset: Action = _nothing            # from "after the command" back to "before it"
    needs: list[str] = field(default_factory=list)


def _run(mm, mp: Path, *argv: str):
    return ok(mm(*(a.replace("{mp}", str(mp)) for a in argv)))


def _steps(*argvs: list[str]) -> Action:
    def act(mm, mp: Path) -> None:
        for argv in argvs:
            _run(mm, mp, *argv)
    return act


def _file(path: Path, text: str = "data\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _parked_file(mm, mp: Path) -> None:
    _run(mm, mp, "mmcrfileset", "mmfs1", "gone")
    fid = next(line.split(":")[8] for line in mm("mmlsfileset", "mmfs1", "gone", "-Y")
               .stdout.splitlines() if ":HEADER:" not in line)
    _file(mp.parent.parent / "filesystems" / "mmfs1" / "filesets" / fid / "kept")


def _snapshot_data(mm, mp: Path) -> None:
    _steps(["mmcrfileset", "mmfs1", "ind", "--inode-space", "new", "-J", "{mp}/ind"])(mm, mp)
    _file(mp / "top.txt")
    _file(mp / "ind" / "inner.txt")


_SAVED: dict[str, tuple] = {}


def _attr_files(mm, mp: Path) -> None:
    for name in ("a.dat", "b.dat"):
        _file(mp / name)
        _SAVED[name] = fileattrs.save(mp / name)


def _attr_reset(mm, mp: Path) -> None:
    for name, saved in _SAVED.items():
        fileattrs.restore(mp / name, saved)


def _policy(mm, mp: Path) -> None:
    (mp.parent.parent / "p.pol").write_text("RULE 'd' SET POOL 'sas1'\n")
    (mp.parent.parent / "installed.pol").write_text(mm("mmlspolicy", "mmfs1", "-L").stdout)


def _migration(mm, mp: Path) -> None:
    _attr_files(mm, mp)
    (mp.parent.parent / "work").mkdir()
    (mp.parent.parent / "mig.pol").write_text(
        "RULE 'm' MIGRATE FROM POOL 'sata1' TO POOL 'sas1' WHERE NAME LIKE '%.dat'\n")


SCENARIOS = {
    "mmcrfileset": Scenario(
        ["mmcrfileset", "mmfs1", "f", "--inode-space", "new", "-J", "{mp}/f"],
        reset=_steps(["mmunlinkfileset", "mmfs1", "f"], ["mmdelfileset", "mmfs1", "f", "-f"])),
    "mmlinkfileset": Scenario(
        ["mmlinkfileset", "mmfs1", "u", "-J", "{mp}/u"],
        setup=_steps(["mmcrfileset", "mmfs1", "u"]),
        reset=_steps(["mmunlinkfileset", "mmfs1", "u"])),
    "mmunlinkfileset": Scenario(
        ["mmunlinkfileset", "mmfs1", "l"],
        setup=_steps(["mmcrfileset", "mmfs1", "l", "-J", "{mp}/l"]),
        reset=_steps(["mmlinkfileset", "mmfs1", "l", "-J", "{mp}/l"])),
    "mmdelfileset": Scenario(
        ["mmdelfileset", "mmfs1", "gone", "-f"], setup=_parked_file, reset=_parked_file),
    "mmcrsnapshot": Scenario(
        ["mmcrsnapshot", "mmfs1", "s1,ind:s2"], setup=_snapshot_data,
        reset=_steps(["mmdelsnapshot", "mmfs1", "s1,ind:s2"])),
    "mmdelsnapshot": Scenario(
        ["mmdelsnapshot", "mmfs1", "s1,ind:s2"],
        setup=lambda mm, mp: (_snapshot_data(mm, mp),
                              _run(mm, mp, "mmcrsnapshot", "mmfs1", "s1,ind:s2")),
        reset=_steps(["mmcrsnapshot", "mmfs1", "s1,ind:s2"])),
    "mmchattr": Scenario(
        ["mmchattr", "-P", "sas1", "--set-attr", "user.tag=x", "-r", "2", "{mp}/a.dat",
         "{mp}/b.dat"], setup=_attr_files, reset=_attr_reset),
    "mmchattr -i": Scenario(["mmchattr", "-i", "yes", "{mp}/a.dat", "{mp}/b.dat"],
                            setup=_attr_files, reset=_attr_reset),
    "mmchfs -W": Scenario(
        ["mmchfs", "mmfs2", "-W", "renamed"], setup=_steps(["mmumount", "mmfs2", "-a"]),
        reset=_steps(["mmchfs", "renamed", "-W", "mmfs2"])),
    "mmapplypolicy": Scenario(
        ["mmapplypolicy", "mmfs1", "-P", "{mp}/../../mig.pol", "-I", "yes", "-s",
         "{mp}/../../work"], setup=_migration, reset=_attr_reset),
    "mmumount": Scenario(["mmumount", "mmfs1"], reset=_steps(["mmmount", "mmfs1"])),
    "mmmount": Scenario(["mmmount", "mmfs1"], setup=_steps(["mmumount", "mmfs1"]),
                        reset=_steps(["mmumount", "mmfs1"])),
    "mmsetquota": Scenario(["mmsetquota", "mmfs1:root", "--files", "10:20"],
                           reset=_steps(["mmsetquota", "mmfs1:root", "--files", "0:0"])),
    "mmchpool": Scenario(["mmchpool", "mmfs1", "sas1", "--write-affinity-depth", "1"],
                         reset=_steps(["mmchpool", "mmfs1", "sas1", "--write-affinity-depth",
                                       "0"])),
    "mmchpolicy": Scenario(["mmchpolicy", "mmfs1", "{mp}/../../p.pol"], setup=_policy,
                           reset=_steps(["mmchpolicy", "mmfs1", "{mp}/../../installed.pol"])),
}


def _fingerprint(root: Path, mp: Path) -> tuple:
    """What a command may change, without the values that differ between two runs of it
    (creation times, ids of intents)."""
    db = state.connection(root)
    filesets = sorted((r["fs"], r["id"], r["name"], r["status"], r["junction"])
                      for r in db.execute("SELECT * FROM filesets"))
    snapshots = sorted((r["fs"], r["name"], r["fileset"])
                       for r in db.execute("SELECT * FROM snapshots"))
    other = [sorted(tuple(r) for r in db.execute(query)) for query in (
        "SELECT fs, type, id, fileset, files_soft, files_hard FROM quotas",
        "SELECT * FROM pools", "SELECT fs, text FROM policies",
        "SELECT name, mountpoint, mounted_at FROM filesystems", "SELECT * FROM mounts")]
    xattrs = []
    for path in sorted(mp.rglob("*.dat")):
        saved = fileattrs.save(path)
        xattrs.append((path.name, sorted(saved[0].items()), saved[1]))
    structure = {"filesystems", "locks"} | {f"filesystems/{fs}" for fs in ("mmfs1", "mmfs2")} \
        | {f"filesystems/{fs}/filesets" for fs in ("mmfs1", "mmfs2")}
    files = [p for p in cluster_files(root) if p not in structure]
    return filesets, snapshots, other, xattrs, files


def _killed_at(root: Path, argv: list[str], point: int) -> bool:
    """Run ``argv`` in a forked child killed at journal point ``point``; True if killed."""
    pid = os.fork()
    if pid == 0:   # the child: fresh connections, then the command
        try:
            state._local.connections = {}
            os.environ[journal.CRASH_AT] = str(point)
            run_command(argv, root=root)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_killed_at_every_point_recovers(name, mm, emulator_root, mp, caplog):
    scenario = SCENARIOS[name]
    argv = [a.replace("{mp}", str(mp)) for a in scenario.argv]
    scenario.setup(mm, mp)
    before = _fingerprint(emulator_root, mp)
    ok(mm(*argv))
    after = _fingerprint(emulator_root, mp)
    assert after != before
    scenario.reset(mm, mp)
    assert _fingerprint(emulator_root, mp) == before
    point = 0
    while True:
        point += 1
        assert point < 40, "the command never completed"
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gpfskit.emulator.journal"):
            if not _killed_at(emulator_root, argv, point):
                break
            ok(mm("mmlsfileset", "mmfs1"))          # the next command settles the intent
        settled = [r.message for r in caplog.records if "interrupted command" in r.message]
        assert len(settled) <= 1
        db = state.connection(emulator_root)
        assert db.execute("SELECT count(*) FROM intents").fetchone()[0] == 0
        report = fsck.check(emulator_root)
        assert report.exit_code == fsck.CLEAN, (point, report.lines())
        now = _fingerprint(emulator_root, mp)
        if now == before:
            assert not settled or "rolled back" in settled[0] or "cleaned up" in settled[0]
            ok(mm(*argv))                            # the rerun succeeds
            assert _fingerprint(emulator_root, mp) == after
        else:
            assert now == after, point
            assert not settled or "rolled forward" in settled[0] or "cleaned up" in settled[0]
        scenario.reset(mm, mp)
        assert _fingerprint(emulator_root, mp) == before, point
    assert point > 2   # the command passed its points (at least the two around the commit)
    assert _fingerprint(emulator_root, mp) == after


def _shim(root: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gpfskit.cli.mm", f"--root={root}", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_copy(snapdir: Path, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while not (snapdir.is_dir() and any(p.name.startswith(".creating-")
                                        for p in snapdir.iterdir())):
        assert child.poll() is None and time.monotonic() < deadline, "no copy started"
        time.sleep(0.002)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_snapshot_killed_mid_copy_leaks_nothing(signum, mm, emulator_root, mp):
    for i in range(600):
        _file(mp / "many" / f"d{i % 30}" / f"f{i}")
    before = _fingerprint(emulator_root, mp)
    child = _shim(emulator_root, "mmcrsnapshot", "mmfs1", "big")
    _wait_for_copy(mp / ".snapshots", child)
    child.send_signal(signum)
    child.wait(timeout=60)
    if signum == signal.SIGTERM:   # the command undoes its copy itself before it exits
        assert child.returncode == 128 + signum
        assert not (mp / ".snapshots").exists()
    ok(mm("mmlssnapshot", "mmfs1"))
    assert not (mp / ".snapshots").exists()
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN
    assert _fingerprint(emulator_root, mp) == before
    ok(mm("mmcrsnapshot", "mmfs1", "big"))
    ok(mm("mmdelsnapshot", "mmfs1", "big"))
    assert not (mp / ".snapshots").exists()   # gone with its last snapshot


def test_fsck_reports_then_repairs(mm, emulator_root, mp):
    ok(mm("mmcrfileset", "mmfs1", "lost", "-J", str(mp / "lost")))
    ok(mm("mmcrsnapshot", "mmfs1", "s1"))
    os.rmdir(mp / "lost")                                    # a fileset root gone
    os.chmod(mp / ".snapshots", 0o755)
    (mp / ".snapshots" / ".creating-0000").mkdir()           # a leftover copy
    (mp / ".snapshots" / "stray").mkdir()                    # a copy no snapshot owns
    parked = emulator_root / "filesystems" / "mmfs1" / "filesets"
    parked.mkdir(parents=True, exist_ok=True)
    _file(parked / "77" / "orphan.txt")                     # files no fileset owns
    gpfskit = str(Path(sys.executable).parent / "gpfskit")
    found = subprocess.run([gpfskit, "emulator", "fsck", "--root", str(emulator_root)],
                           capture_output=True, text=True)
    assert found.returncode == fsck.LEFT, found.stderr
    for text in ("fileset lost is Linked but its root directory", ".creating-0000",
                 "stray: no snapshot owns it", "77 belongs to no unlinked fileset"):
        assert text in found.stdout, found.stdout
    fixed = subprocess.run([gpfskit, "emulator", "fsck", "--repair", "--root",
                            str(emulator_root)], capture_output=True, text=True)
    assert fixed.returncode == fsck.LEFT   # the orphan with files is left to an administrator
    assert "cannot repair: move its files" in fixed.stdout
    assert not (mp / ".snapshots" / "stray").exists()
    assert "Unlinked" in mm("mmlsfileset", "mmfs1", "lost").stdout
    shutil.rmtree(parked / "77")
    again = fsck.check(emulator_root, repair=True)
    assert again.exit_code == fsck.CLEAN, again.lines()
    ok(mm("mmdelfileset", "mmfs1", "lost"))


def test_mmapplypolicy_killed_mid_moves_leaves_each_file_whole(mm, emulator_root, mp):
    files = [mp / "many" / f"d{i % 100}" / f"f{i}.dat" for i in range(8000)]
    for path in files:
        _file(path)
    doomed = [mp / "many" / f"d{i}" / "old.tmp" for i in range(100)]
    for path in doomed:
        _file(path)
    guarded = files[::160]
    for path in guarded:
        fileattrs.set_immutable(path, True)
    policy = emulator_root / "mig.pol"
    policy.write_text("RULE 'm' MIGRATE FROM POOL 'sata1' TO POOL 'sas1' WHERE NAME LIKE '%.dat'\n"
                      "RULE 'd' DELETE WHERE NAME LIKE '%.tmp'\n")
    (emulator_root / "work").mkdir()
    argv = ["mmapplypolicy", "mmfs1", "-P", str(policy), "-I", "yes", "-s",
            str(emulator_root / "work")]
    child = _shim(emulator_root, *argv)
    sample = files[::37]
    deadline = time.monotonic() + 60
    while not any(fileattrs.recorded_pool(p) == "sas1" for p in sample):
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    ok(mm("mmlsfileset", "mmfs1"))                       # settles the killed run
    assert fsck.check(emulator_root).exit_code == fsck.CLEAN
    assert not any((emulator_root / "work").iterdir())   # its work files are gone
    pools = [fileattrs.recorded_pool(p) for p in files]
    moved = pools.count("sas1")
    assert 0 < moved < len(files), moved                  # killed in the middle of its moves
    assert set(pools) <= {"sas1", "sata1", None}
    assert all(p.read_text() == "data\n" for p in files)
    assert all(fileattrs.immutable(p) for p in guarded)   # lifted flags raised again
    ok(mm(*argv))                                          # a rerun moves the rest
    assert all(fileattrs.recorded_pool(p) == "sas1" for p in files)
    assert not any(p.exists() for p in doomed)
    assert all(fileattrs.immutable(p) for p in guarded)
