"""What editors and mypy see of the object API: checked by mypy (``make lint``), not run.

Each ``assert_type`` fails the lint when a property or collection loses its type (to
``Any``, say), so chains such as ``fs.filesets['x'].snapshots['s'].location`` stay followed.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_type

from gpfskit.api import (
    Cluster,
    Disk,
    Disks,
    Fileset,
    Filesets,
    Filesystem,
    Filesystems,
    Nsd,
    Pools,
    Quota,
    Quotas,
    Snapshot,
    Snapshots,
)


def follow(cluster: Cluster) -> None:
    assert_type(cluster.filesystems, Filesystems)
    fs = cluster.filesystems["mmfs1"]
    assert_type(fs, Filesystem)
    assert_type(fs.filesets, Filesets)
    assert_type(fs.filesets["x"], Fileset)
    assert_type(fs.filesets["x"].snapshots, Snapshots)
    assert_type(fs.filesets["x"].snapshots["s"], Snapshot)
    assert_type(fs.filesets["x"].snapshots["s"].location, str | None)
    assert_type(fs.filesets["x"].quotas, Quotas)
    assert_type(fs.filesets["x"].quotas.fileset["x"], Quota)
    assert_type(fs.filesets["x"].quotas.fileset["x"].blockUsage, int | None)
    assert_type(fs.filesets["x"].created, datetime | None)
    assert_type(fs.snapshots, Snapshots)
    assert_type(fs.quotas.user, Quotas)
    assert_type(fs.pools, Pools)
    assert_type(fs.disks, Disks)
    assert_type(fs.createTime, datetime | None)
    assert_type(cluster.nsds["d1"], Nsd)
    assert_type(cluster.nsds["d1"].disk, Disk | None)
