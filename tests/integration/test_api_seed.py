"""The snippets of the Python API introduction (all but policies and callbacks), as written,
against the demo cluster."""

from __future__ import annotations

import os

from gpfskit.commands import yformat


def _mmlssnapshot(mm) -> list[str]:
    result = mm("mmlssnapshot", "mmfs1", "-Y")
    return [row["directory"] for row in yformat.parse_table(result.stdout)]


def test_print_filesystems(emulator_root, capsys):
    from arcapix.fs.gpfs import Cluster

    print(Cluster().filesystems)
    assert capsys.readouterr().out == "mmfs1,mmfs2\n"


def test_print_snapshots(emulator_root, mm, capsys):
    from arcapix.fs.gpfs import Cluster

    assert mm("mmcrsnapshot", "mmfs1", "global-snapshot1").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "TemporarySnapshot").returncode == 0

    print(Cluster().filesystems['mmfs1'].snapshots)
    assert capsys.readouterr().out == "global-snapshot1,TemporarySnapshot\n"


def test_change_mount_point(emulator_root, mm):
    from arcapix.fs.gpfs import Cluster

    Cluster().filesystems['mmfs1'].change(mountPoint='/gpfs1')

    rows = yformat.parse_table(mm("mmlsfs", "mmfs1", "-T", "-Y").stdout)
    assert [r["data"] for r in rows if r["fieldName"] == "defaultMountPoint"] == ["/gpfs1"]
    assert Cluster().filesystems['mmfs1'].mountPoint == '/gpfs1'


def test_shutdown_node(emulator_root, mm):
    from arcapix.fs.gpfs import Cluster

    Cluster().nodes['node1'].shutdown()

    rows = yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)
    assert {r["nodeName"]: r["state"] for r in rows} == {
        "node1": "down", "node2": "active", "node3": "active"}
    assert Cluster().nodes['node1'].state == 'down'


def test_create_and_destroy_snapshot(emulator_root, mm):
    from arcapix.fs.gpfs import Cluster

    fsys = Cluster().filesystems['mmfs1']
    snap = fsys.snapshots.new('TemporarySnapshot')

    # perform backup ...
    assert _mmlssnapshot(mm) == ["TemporarySnapshot"]
    assert os.path.isdir(snap.location)
    assert snap.location == os.path.join(fsys.mountPoint, ".snapshots", "TemporarySnapshot")
    assert snap.status == "Valid" and snap.filesetName is None

    fsys.snapshots.destroy(snap)

    assert _mmlssnapshot(mm) == []
    assert not os.path.exists(snap.location)
    assert "TemporarySnapshot" not in fsys.snapshots


def test_dry_run(emulator_root, mm, capsys):
    assert mm("mmcrsnapshot", "mmfs1", "global-snapshot1").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "snap_test").returncode == 0

    from arcapix.fs.gpfs.execute import setDryRun, getCmdCache  # noqa: I001 - as the seed writes it
    from arcapix.fs.gpfs import Filesystem

    setDryRun(True)

    fs = Filesystem('mmfs1')

    for s in fs.snapshots.values():
        s.delete()

    print(getCmdCache())

    assert capsys.readouterr().out == (
        "['mmdelsnapshot mmfs1 global-snapshot1', 'mmdelsnapshot mmfs1 snap_test']\n")
    assert getCmdCache() == ['mmdelsnapshot mmfs1 global-snapshot1',
                             'mmdelsnapshot mmfs1 snap_test']
    # The API session sees the recorded change; the cluster and a fresh object do not.
    assert len(fs.snapshots) == 0
    assert _mmlssnapshot(mm) == ["global-snapshot1", "snap_test"]
    assert list(Filesystem('mmfs1').snapshots) == ["global-snapshot1", "snap_test"]
    setDryRun(False)
    assert list(fs.snapshots) == ["global-snapshot1", "snap_test"]
