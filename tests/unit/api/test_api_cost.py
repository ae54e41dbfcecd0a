"""The cost model: a collection and its members' common attributes cost one listing command."""

from __future__ import annotations

import pytest
from api_fakes import canned_filesystem

from arcapix.fs.gpfs import Cluster, Filesystem


def _walk(fs: Filesystem) -> list[tuple]:
    """What a report script reads: every fileset with its quota and snapshots."""
    report = []
    for fileset in fs.filesets.values():
        quota = fileset.quotas.fileset[fileset.name]
        snaps = [(s.name, s.id, s.created) for s in fileset.snapshots.values()]
        report.append((fileset.name, fileset.id, fileset.status, fileset.path,
                       fileset.maxInodes, quota.blockUsage, quota.blockLimit,
                       quota.filesLimit, snaps))
    return report


@pytest.mark.parametrize("count", [10, 1000])
def test_listing_filesets_with_quotas_and_snapshots_costs_three_commands(fake, commands,
                                                                         count):
    canned_filesystem(fake, "project", count)
    report = _walk(Filesystem("project"))
    assert len(report) == count
    assert report[0] == ("fset0001", 1, "Linked", "/fs/project/fset0001", 1000000, 1024, 4096,
                         200, [("daily", 1, report[0][8][0][2])])
    assert commands.count == 3
    assert sorted(commands.names()) == ["mmlsfileset project -Y", "mmlssnapshot project -Y",
                                        "mmrepquota -j project -Y"]


def test_every_quota_view_shares_the_listing(fake, commands):
    canned_filesystem(fake, "project", 50)
    fs = Filesystem("project")
    for fileset in fs.filesets.values():
        assert len(fileset.quotas) == 1                 # all types: one mmrepquota
        assert fileset.quotas.fileset[fileset.name].id  # served from the same listing
    assert commands.names() == ["mmlsfileset project -Y", "mmrepquota project -Y"]


def test_second_walk_is_free_and_refresh_reloads(fake, commands):
    canned_filesystem(fake, "project", 20)
    fs = Filesystem("project")
    _walk(fs)
    assert commands.count == 3
    _walk(fs)
    assert commands.count == 3
    fs.refresh()
    _walk(fs)
    assert commands.count == 6


def test_node_states_cost_one_command(emulator_root, commands):
    nodes = Cluster().nodes
    assert [n.state for n in nodes.values()] == ["active"] * 3
    assert commands.names() == ["mmlscluster -Y", "mmgetstate -a -Y"]


def test_filesystems_of_a_cluster_cost_one_mmlsfs(emulator_root, commands):
    cluster = Cluster()
    points = {name: fs.mountPoint for name, fs in cluster.filesystems.items()}
    sizes = [fs.blockSize for fs in cluster.filesystems.values()]
    assert set(points) == {"mmfs1", "mmfs2"} and all(sizes)
    assert commands.names() == ["mmlsfs all -Y"]


def test_emulated_filesets_cost_one_listing(emulator_root, mm, commands):
    for i in range(30):
        assert mm("mmcrfileset", "mmfs1", f"f{i}", "--inode-space", "new").returncode == 0
    fs = Cluster().filesystems["mmfs1"]
    listed = [(f.name, f.id, f.status, f.inodeSpace, f.maxInodes) for f in fs.filesets.values()]
    assert len(listed) == 31
    assert commands.names() == ["mmlsfs all -Y", "mmlsfileset mmfs1 -Y"]


def test_a_new_cluster_starts_fresh(emulator_root, commands):
    first = Cluster().filesystems["mmfs1"].mountPoint
    assert Cluster().filesystems["mmfs1"].mountPoint == first
    assert commands.names() == ["mmlsfs all -Y"] * 2
