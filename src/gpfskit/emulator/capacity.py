"""Capacity of a file system's pools and disks, measured from the real files.

Disk sizes come from the ``nsds`` table. The data used in a pool is the KiB allocated
(``st_blocks``) of the files in that pool: the pool recorded on the file (``fileattrs``),
else the one placement chooses. Metadata (one inode of ``inode_size`` per file and
directory, plus the directories' own blocks) is used on the metadata disks. Usage is spread
over a pool's disks in proportion to their sizes. Free space is split into full blocks
(whole file system blocks) and fragments (the rest). ``.snapshots`` directories are
skipped, and so are the files of snapshots; the files of unlinked filesets count (they
still occupy the file system).

The inode figures are the real number of files and directories against the allocated and
maximum inodes of all inode spaces (root fileset and independent filesets).

``mmdf`` and ``mmlspool`` (``commands/storage``) print these figures; ``events`` checks pool
levels against them, and ``mmapplypolicy`` its pool thresholds.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from gpfskit.emulator import fileattrs, layout


@dataclass
class Allocation:
    """What the files of one file system have allocated."""

    data_kb: dict[str, int] = field(default_factory=dict)   # pool -> KiB of file data
    directory_kb: int = 0
    used_inodes: int = 0
    inode_size: int = 4096

    @property
    def metadata_kb(self) -> int:
        return -(-self.used_inodes * self.inode_size // 1024) + self.directory_kb


def measure(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row) -> Allocation:
    """Walk the file system's files (tree and parked filesets), skipping ``.snapshots``."""
    usage = Allocation(inode_size=fs_row["inode_size"])
    name = fs_row["name"]
    seen: set[tuple[int, int]] = set()
    tops: list[tuple[Path, str | None]] = [(layout.tree(root, fs_row),
                                            str(layout.visible_root(fs_row)))]
    parked = layout.fs_home(root, name) / "filesets"
    if parked.is_dir():
        tops.extend((p, None) for p in sorted(parked.iterdir())
                    if p.is_dir() and not p.is_symlink())
    default_pool: str | None = None
    for top, visible in tops:
        if not top.is_dir():
            continue
        st = top.lstat()
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        usage.used_inodes += 1
        usage.directory_kb += st.st_blocks // 2
        stack = [(str(top), visible)]
        while stack:
            directory, shown = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if entry.name == layout.SNAPDIR:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue
                seen.add(key)
                usage.used_inodes += 1
                path_shown = f"{shown}/{entry.name}" if shown else None
                if entry.is_dir(follow_symlinks=False):
                    usage.directory_kb += st.st_blocks // 2
                    stack.append((entry.path, path_shown))
                    continue
                kb = -(-st.st_blocks * 512 // 1024)
                if not kb:
                    continue
                pool = fileattrs.recorded_pool(entry.path) if entry.is_file(
                    follow_symlinks=False) else None
                if pool is None:
                    if path_shown is None:
                        if default_pool is None:
                            default_pool = fileattrs.placement_pool(db, name, None)
                        pool = default_pool
                    else:
                        pool = fileattrs.placement_pool(db, name, path_shown)
                usage.data_kb[pool] = usage.data_kb.get(pool, 0) + kb
    return usage


@dataclass
class DiskFigures:
    """One disk's size and free space (KiB), free space split into whole blocks and
    fragments."""

    row: sqlite3.Row
    size_kb: int
    free_kb: int
    free_blocks_kb: int
    free_fragments_kb: int


@dataclass
class PoolFigures:
    """One pool's disks and their figures."""

    name: str
    pool_id: int
    block_size: int
    disks: list[DiskFigures]

    @property
    def data_disks(self) -> list[DiskFigures]:
        return [d for d in self.disks if d.row["data"]]

    @property
    def metadata_disks(self) -> list[DiskFigures]:
        return [d for d in self.disks if d.row["metadata"]]


def figures(root: Path, db: sqlite3.Connection, fs_row: sqlite3.Row,
            usage: Allocation | None = None) -> list[PoolFigures]:
    """Per pool and disk: sizes and free space, from ``measure`` (measured now unless
    ``usage`` is given)."""
    usage = usage or measure(root, db, fs_row)
    name = fs_row["name"]
    block_kb = max(1, fs_row["block_size"] // 1024)
    pools = []
    meta_total = sum(r["size_kb"] for r in db.execute(
        "SELECT size_kb FROM nsds WHERE fs = ? AND metadata", (name,)))
    for pool in db.execute("SELECT * FROM pools WHERE fs = ? ORDER BY id", (name,)):
        disks = db.execute("SELECT * FROM nsds WHERE fs = ? AND pool = ? ORDER BY disk_id",
                               (name, pool["name"])).fetchall()
        data_total = sum(d["size_kb"] for d in disks if d["data"])
        data_used = usage.data_kb.get(pool["name"], 0)
        result = []
        for disk in disks:
            used = 0.0
            if disk["data"] and data_total:
                used += data_used * disk["size_kb"] / data_total
            if disk["metadata"] and meta_total:
                used += usage.metadata_kb * disk["size_kb"] / meta_total
            free = max(0, disk["size_kb"] - round(used))
            blocks = free // block_kb * block_kb
            result.append(DiskFigures(disk, disk["size_kb"], free, blocks, free - blocks))
        pools.append(PoolFigures(pool["name"], pool["id"], pool["block_size"], result))
    return pools


def inode_figures(db: sqlite3.Connection, fs_row: sqlite3.Row, usage: Allocation
                  ) -> tuple[int, int, int, int]:
    """(used, free, allocated, maximum) inodes over all inode spaces."""
    row = db.execute(
        "SELECT sum(max_inodes) AS m, sum(alloc_inodes) AS a FROM filesets WHERE fs = ? "
        "AND is_inode_space_owner AND status != 'Deleted'", (fs_row["name"],)).fetchone()
    maximum = row["m"] or fs_row["max_inodes"]
    allocated = max(row["a"] or fs_row["alloc_inodes"], usage.used_inodes)
    maximum = max(maximum, allocated)
    return usage.used_inodes, allocated - usage.used_inodes, allocated, maximum
