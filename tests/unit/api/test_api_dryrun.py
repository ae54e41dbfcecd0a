"""Dry run: changes are recorded, not made; the API session shows them, a fresh load does not."""

from __future__ import annotations

import pytest

from arcapix.fs.gpfs import Cluster, Filesystem, Snapshot
from arcapix.fs.gpfs.execute import getCmdCache, setDryRun
from gpfskit.commands import dry_run, yformat


@pytest.fixture
def dry(emulator_root):
    setDryRun(True)
    yield
    setDryRun(False)


def _real_filesets(mm) -> dict[str, dict]:
    return {r["filesetName"]: r for r in yformat.parse_table(mm("mmlsfileset", "mmfs1",
                                                                "-Y").stdout)}


def test_destroyed_snapshot_is_gone_from_the_session_only(emulator_root, mm):
    assert mm("mmcrsnapshot", "mmfs1", "s1").returncode == 0
    fs = Cluster().filesystems["mmfs1"]
    snap = fs.snapshots["s1"]
    setDryRun(True)
    fs.snapshots.destroy(snap)
    assert "s1" not in fs.snapshots
    assert getCmdCache() == ["mmdelsnapshot mmfs1 s1"]
    assert "s1" in Cluster().filesystems["mmfs1"].snapshots
    assert Snapshot("mmfs1", "s1").status == "Valid"


def test_changed_mount_point_shows_in_the_session(dry, mm):
    cluster = Cluster()
    fs = cluster.filesystems["mmfs1"]
    old = fs.mountPoint
    fs.change(mountPoint="/x", suppressAtime="no", perfilesetQuotas=True)
    assert fs.mountPoint == "/x" and cluster.filesystems["mmfs1"].mountPoint == "/x"
    assert fs.suppressAtime == "no" and fs.perfilesetQuotas == "Yes"
    assert getCmdCache() == ["mmchfs mmfs1 -T /x -S no --perfileset-quota"]
    assert Cluster().filesystems["mmfs1"].mountPoint == old
    assert Filesystem("mmfs1").mountPoint == old


def test_new_fileset_with_link_and_quota(dry, mm):
    fs = Filesystem("mmfs1")
    junction = fs.mountPoint + "/proj"
    fileset = fs.filesets.new("proj", maxInodes=5000, allocInodes=1000, path=junction,
                              comment="for tests", filesHardLimit=100)
    assert getCmdCache() == [
        "mmcrfileset mmfs1 proj --inode-space new --inode-limit 5000:1000 -t 'for tests'",
        f"mmlinkfileset mmfs1 proj -J {junction}",
        "mmsetquota mmfs1:proj --files 0:100",
    ]
    assert "proj" in fs.filesets and fs.filesets["proj"] is not None
    assert fileset.status == "Linked" and fileset.path == junction
    assert fileset.maxInodes == 5000 and fileset.allocInodes == 1000
    assert fileset.comment == "for tests" and fileset.id == 1
    assert fileset.quotas.fileset["proj"].filesLimit == 100
    assert "proj" in fs.filesets.independent()
    assert "proj" not in _real_filesets(mm)
    assert "proj" not in Filesystem("mmfs1").filesets


def test_fileset_changes_show_in_the_session(emulator_root, mm):
    fs = Filesystem("mmfs1")
    fs.filesets.new("old", maxInodes=2000, path=fs.mountPoint + "/old")
    assert mm("mmcrsnapshot", "mmfs1", "snap", "-j", "old").returncode == 0
    fileset = fs.filesets["old"]
    with dry_run() as recorded:
        fileset.change(name="renamed", comment="renamed", path=fs.mountPoint + "/elsewhere",
                       maxInodes=3000)
        assert list(fs.filesets) == ["root", "renamed"]
        assert fileset.name == "renamed" and fileset.comment == "renamed"
        assert fileset.path == fs.mountPoint + "/elsewhere" and fileset.maxInodes == 3000
        assert list(fileset.snapshots) == ["snap"]
        fileset.unlink()
        assert fileset.status == "Unlinked" and fileset.path is None
        fileset.delete()
        assert "renamed" not in fs.filesets
    assert recorded == [
        "mmchfileset mmfs1 old -j renamed -t renamed --inode-limit 3000",
        "mmunlinkfileset mmfs1 renamed",
        f"mmlinkfileset mmfs1 renamed -J {fs.mountPoint}/elsewhere",
        "mmunlinkfileset mmfs1 renamed",
        "mmdelfileset mmfs1 renamed",
    ]
    real = _real_filesets(mm)
    assert not real["old"]["comment"] and real["old"]["path"] == fs.mountPoint + "/old"


def test_new_snapshot_appears_with_an_id(dry):
    fs = Filesystem("mmfs1")
    snap = fs.snapshots.new("nightly")
    assert list(fs.snapshots) == ["nightly"] and snap.id == 1 and snap.status == "Valid"
    assert snap.created is not None
    assert getCmdCache() == ["mmcrsnapshot mmfs1 nightly"]
    assert list(Filesystem("mmfs1").snapshots) == []


def test_node_and_disk_changes(dry, mm):
    cluster = Cluster()
    cluster.nodes["node2"].shutdown()
    cluster.nodes["node3"].change(manager=True)
    disk = cluster.filesystems["mmfs1"].disks["mmfs1_sas1_nsd1"]
    disk.suspend()
    assert cluster.nodes["node2"].state == "down"
    assert cluster.nodes["node3"].designation == "quorumManager"
    assert disk.status == "suspended"
    assert getCmdCache() == ["mmshutdown -N node2", "mmchnode --manager -N node3",
                             "mmchdisk mmfs1 suspend -d mmfs1_sas1_nsd1"]
    fresh = Cluster()
    assert fresh.nodes["node2"].state == "active"
    assert fresh.nodes["node3"].designation == "quorum"
    assert fresh.filesystems["mmfs1"].disks["mmfs1_sas1_nsd1"].status == "ready"


def test_quota_change_and_mount_changes(dry):
    fs = Filesystem("mmfs1")
    quota = fs.quotas.fileset["root"]
    quota.change(blockSoftLimit="1G", blockHardLimit="2G")
    assert quota.blockSoftLimit == 1024 * 1024 and quota.blockHardLimit == 2 * 1024 * 1024
    fs.unmount(nodes=["node2", "node3"])
    assert fs.mountedNodes == ["node1"]
    fs.mount(nodes="all")
    assert fs.mountedNodes == ["node1", "node2", "node3"]
    assert getCmdCache() == ["mmsetquota mmfs1:root --block 1G:2G", "mmumount mmfs1 -N node2,node3",
                             "mmmount mmfs1 -a"]
    assert Filesystem("mmfs1").quotas.fileset["root"].blockSoftLimit == 0


def test_a_dry_run_link_inside_a_directory_the_dry_run_would_create(emulator_root):
    """Linking a fileset at a junction inside another fileset linked by the same dry run
    (whose directory does not exist yet) is recorded, not refused."""
    fs = Filesystem("mmfs1")
    with dry_run() as commands:
        outer = fs.filesets.new("outer", maxInodes=10000)
        outer.link(fs.mountPoint + "/outer")
        inner = fs.filesets.new("inner")
        inner.link(fs.mountPoint + "/outer/inner")
    assert commands[-1] == f"mmlinkfileset mmfs1 inner -J {fs.mountPoint}/outer/inner"
    assert "outer" not in Filesystem("mmfs1").filesets
    with pytest.raises(Exception, match="does not exist"), dry_run():
        fs.filesets.new("lost").link(fs.mountPoint + "/nowhere/lost")
