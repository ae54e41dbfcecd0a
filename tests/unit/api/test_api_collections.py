"""Collections behave like ordered dicts keyed by name; the Loader caches and forgets."""

from __future__ import annotations

import pytest

from arcapix.fs.gpfs import Cluster, Filesystem, Snapshot
from gpfskit.api.loader import Loader
from gpfskit.commands import GPFSExecuteException, dry_run, run


def test_mapping_interface(emulator_root, capsys):
    filesystems = Cluster().filesystems
    assert list(filesystems) == ["mmfs1", "mmfs2"]
    assert filesystems.keys() == ["mmfs1", "mmfs2"]
    assert [fs.name for fs in filesystems.values()] == ["mmfs1", "mmfs2"]
    assert [(k, v.deviceName) for k, v in filesystems.items()] == [("mmfs1", "mmfs1"),
                                                                  ("mmfs2", "mmfs2")]
    assert len(filesystems) == 2 and "mmfs1" in filesystems and "nosuch" not in filesystems
    assert filesystems["mmfs1"] == Filesystem("mmfs1")
    assert filesystems["mmfs1"] in filesystems
    assert filesystems.get("nosuch") is None
    assert str(filesystems) == "mmfs1,mmfs2"
    assert repr(filesystems) == "<Filesystems in the cluster: mmfs1,mmfs2>"
    print(filesystems["mmfs1"].pools)
    assert capsys.readouterr().out == "system,sas1,sata1\n"


def test_missing_key_says_what_and_where(emulator_root):
    fs = Filesystem("mmfs1")
    with pytest.raises(KeyError, match="no fileset named 'nosuch' in file system mmfs1"):
        fs.filesets["nosuch"]
    with pytest.raises(KeyError, match="no file system named 'x' in the cluster"):
        Cluster().filesystems["x"]
    with pytest.raises(KeyError, match="no node named 'node9'"):
        Cluster().nodes["node9"]
    with pytest.raises(KeyError):
        fs.snapshots[3]


def test_deleting_while_iterating_values(emulator_root, mm):
    for name in ("a", "b", "c"):
        assert mm("mmcrsnapshot", "mmfs1", name).returncode == 0
    snapshots = Filesystem("mmfs1").snapshots
    for snap in snapshots.values():
        snap.delete()
    assert len(snapshots) == 0
    assert not snapshots


def test_empty_collection_prints_empty(emulator_root, capsys):
    print(Filesystem("mmfs2").snapshots)
    assert capsys.readouterr().out == "\n"


def test_loader_caches_by_argv_until_a_change(emulator_root, commands):
    loader = Loader()
    first = loader.command(("mmlscluster", "-Y"), len)
    assert loader.command(("mmlscluster", "-Y"), len) == first
    assert loader.cached(("mmlscluster", "-Y"))
    assert commands.count == 1
    run(["mmshutdown", "-N", "node3"])          # a changing command moves the generation
    assert not loader.cached(("mmlscluster", "-Y"))
    loader.command(("mmlscluster", "-Y"), len)
    loader.refresh()
    loader.command(("mmlscluster", "-Y"), len)
    assert commands.names().count("mmlscluster -Y") == 3


def test_loader_surfaces_failures(emulator_root):
    loader = Loader()
    with pytest.raises(GPFSExecuteException, match="not known to the GPFS cluster"):
        loader.command(("mmlsfs", "nosuch", "-Y"), len)
    assert loader.command(("mmlsfs", "nosuch", "-Y"), len, empty=lambda exc: True) == 0


def test_recorded_changes_are_dropped_when_dry_run_ends(emulator_root, mm):
    assert mm("mmcrsnapshot", "mmfs1", "keep").returncode == 0
    snapshots = Filesystem("mmfs1").snapshots
    with dry_run() as recorded:
        snapshots.destroy("keep")
        assert "keep" not in snapshots
        assert recorded == ["mmdelsnapshot mmfs1 keep"]
    assert "keep" in snapshots


def test_objects_compare_by_identity_on_the_cluster(emulator_root):
    assert Snapshot("mmfs1", "s") == Snapshot("/dev/mmfs1", "s")
    assert Snapshot("mmfs1", "s") != Snapshot("mmfs1", "s", "fset")
    assert len({Filesystem("mmfs1"), Filesystem("mmfs1"), Filesystem("mmfs2")}) == 2
