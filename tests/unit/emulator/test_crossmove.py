"""Trees moved to another device (the file system mounted on tmpfs, the cluster's state on
disk) stay whole on one side after a kill at any moment, and the next command settles them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from tests.helpers import ok

from gpfskit.emulator import crossmove, fileattrs, fsck, state
from gpfskit.emulator.dispatch import run_command
from gpfskit.emulator.setup import init_cluster
from gpfskit.emulator.steps import Rename

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(
    not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs /dev/shm on another device than the temporary directory")


@pytest.fixture
def elsewhere():
    """A directory on another device than tmp_path."""
    path = Path(tempfile.mkdtemp(dir=SHM, prefix="gpfskit-test-"))
    yield path
    fileattrs.clear_flags(path)
    shutil.rmtree(path, ignore_errors=True)


def make_tree(top: Path, files: int = 40) -> None:
    for i in range(files):
        path = top / f"d{i % 5}" / f"f{i}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"file {i}\n" * (i + 1))
    os.chmod(top / "d0", 0o750)
    os.symlink("d1/f1.dat", top / "link")


def content(top: Path) -> list[tuple]:
    found = []
    for path in sorted(top.rglob("*")):
        if path.is_symlink():
            found.append((str(path.relative_to(top)), "->", os.readlink(path)))
        elif path.is_file():
            found.append((str(path.relative_to(top)), oct(path.stat().st_mode),
                          path.read_bytes()))
        else:
            found.append((str(path.relative_to(top)), oct(path.stat().st_mode)))
    return found


def traces(*directories: Path) -> list[str]:
    return [p.name for d in directories for p in d.iterdir()
            if p.name.startswith((crossmove.MOVING, crossmove.MOVED))]


def test_a_move_to_another_device_keeps_the_tree(tmp_path, elsewhere):
    source, target = tmp_path / "tree", elsewhere / "tree"
    make_tree(source)
    expected = content(source)
    Rename(str(source), str(target)).do()
    assert content(target) == expected and not source.exists()
    assert traces(tmp_path, elsewhere) == []


def _half(path: Path) -> None:
    """Remove about half of the files under ``path``: a copy or a removal cut short."""
    for i, file in enumerate(sorted(path.rglob("*.dat"))):
        if i % 2:
            file.unlink()


def _copying(source: Path, target: Path) -> None:
    shutil.copytree(source, crossmove.staging(target), symlinks=True)
    _half(crossmove.staging(target))


def _copied(source: Path, target: Path) -> None:
    shutil.copytree(source, crossmove.staging(target), symlinks=True)


def _switched(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def _removing(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
    os.rename(source, crossmove.aside(source))
    _half(crossmove.aside(source))


@pytest.mark.parametrize("killed", [_copying, _copied, _switched, _removing])
@pytest.mark.parametrize("settle", ["redo", "undo"])
def test_a_move_killed_at_any_moment_is_settled_either_way(tmp_path, elsewhere, killed,
                                                           settle):
    source, target = tmp_path / "tree", elsewhere / "tree"
    make_tree(source)
    expected = content(source)
    killed(source, target)
    step = Rename(str(source), str(target))
    getattr(step, settle)()
    kept, gone = (target, source) if settle == "redo" else (source, target)
    assert content(kept) == expected
    assert not gone.exists()
    assert traces(tmp_path, elsewhere) == []


@pytest.fixture
def cluster(tmp_path, elsewhere, _isolated_config):
    """A demo cluster whose file systems mount on another device than its state."""
    from gpfskit.config import config

    root = tmp_path / "cluster"
    init_cluster(root, mount_prefix=elsewhere)
    config["gpfskit.cluster.backend"] = "emulated"
    config["gpfskit.emulator.root"] = str(root)
    yield root
    state.forget_connections()


def _shim(root: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gpfskit.cli.mm", f"--root={root}", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _phase(junction: Path, parked: Path) -> str:
    """Where a killed cross-device link stopped, from the traces it left."""
    if crossmove.staging(junction).exists():
        return "copying"
    if crossmove.aside(parked).exists():
        return "removing the source"
    if junction.exists():
        return "switched" if parked.exists() else "moved"
    return "not started"


def test_linking_across_devices_killed_at_any_moment_ends_whole(cluster, elsewhere):
    def mm(*argv: str):
        return run_command(list(argv), root=cluster)

    mp = elsewhere / "mmfs1"
    junction = mp / "big"
    ok(mm("mmcrfileset", "mmfs1", "big", "-J", str(junction)))
    make_tree(junction, files=1000)
    expected = content(junction)
    fileset_id = mm("mmlsfileset", "mmfs1", "big", "-Y").stdout.splitlines()[1].split(":")[8]
    parked = cluster / "filesystems" / "mmfs1" / "filesets" / fileset_id
    ok(mm("mmunlinkfileset", "mmfs1", "big"))
    assert content(parked) == expected
    link = ("mmlinkfileset", "mmfs1", "big", "-J", str(junction))
    started = time.monotonic()
    ok(mm(*link))
    whole = time.monotonic() - started
    ok(mm("mmunlinkfileset", "mmfs1", "big"))
    phases = set()
    for fifth in range(5):
        child = _shim(cluster, *link)
        while not crossmove.staging(junction).exists():
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.001)
        time.sleep(whole * fifth / 5)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        phases.add(_phase(junction, parked))
        status = mm("mmlsfileset", "mmfs1", "big", "-Y")         # settles a killed command
        ok(status)
        assert fsck.check(cluster).exit_code == fsck.CLEAN
        assert traces(mp, parked.parent) == []
        if ":Linked:" in status.stdout:
            assert content(junction) == expected
            ok(mm("mmunlinkfileset", "mmfs1", "big"))
        assert not junction.exists() and content(parked) == expected
    assert "copying" in phases, phases
    ok(mm(*link))
    assert content(junction) == expected
