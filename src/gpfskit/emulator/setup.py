"""Creating an emulated cluster: empty, or the demo cluster the docs and tests use.

The demo is cluster ``democluster`` with nodes node1..node3, file system ``mmfs1`` (pools
``system``, ``sas1``, ``sata1``, placement default ``sata1``) and ``mmfs2`` (pool ``system``),
two NSDs per pool, every file system mounted on every node. ``add_demo_files`` gives mmfs1 a
small tree of files (what ``gpfskit emulator init --demo`` creates), so that scans, quotas and
the README's examples have something to show.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from gpfskit.emulator import state

GIB_KB = 1024 * 1024
POOL_ID_BASE = 65537


@dataclass(frozen=True)
class PoolSpec:
    name: str
    disks: int = 2
    disk_size_kb: int = 100 * GIB_KB
    data: bool = True
    metadata: bool = False


@dataclass(frozen=True)
class FilesystemSpec:
    name: str
    pools: tuple[PoolSpec, ...]
    default_pool: str
    max_inodes: int = 1_000_000
    block_size: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class ClusterSpec:
    name: str = "democluster"
    nodes: tuple[tuple[str, str], ...] = (
        ("node1", "quorumManager"), ("node2", "quorumManager"), ("node3", "quorum"))
    filesystems: tuple[FilesystemSpec, ...] = field(default_factory=tuple)


DEMO = ClusterSpec(filesystems=(
    FilesystemSpec("mmfs1", (
        PoolSpec("system", disk_size_kb=100 * GIB_KB, metadata=True),
        PoolSpec("sas1", disk_size_kb=1024 * GIB_KB),
        PoolSpec("sata1", disk_size_kb=4096 * GIB_KB),
    ), default_pool="sata1"),
    FilesystemSpec("mmfs2", (PoolSpec("system", disk_size_kb=500 * GIB_KB, metadata=True),),
                   default_pool="system"),
))

# mmlsfs fields with no column of their own in the filesystems table.
_FS_ATTRS = {
    "indirectBlockSize": 32768, "defaultMetadataReplicas": 1, "maxMetadataReplicas": 2,
    "defaultDataReplicas": 1, "maxDataReplicas": 2, "blockAllocationType": "scatter",
    "fileLockingSemantics": "nfs4", "ACLSemantics": "all", "numNodes": 32,
    "defaultQuotasEnabled": "none", "DMAPIEnabled": "no", "logfileSize": 33554432,
    "exactMtime": "yes", "suppressAtime": "relatime", "strictReplication": "whenpossible",
    "fastEAenabled": "yes", "encryption": "no", "maxSnapshotId": 0, "logReplicas": 0,
    "is4KAligned": "yes", "rapidRepairEnabled": "yes", "write-cache-threshold": 0,
    "subblocksPerFullBlock": 512, "file-audit-log": "no", "maintenance-mode": "no",
    "additionalMountOptions": "none", "mountPriority": 0,
}
FS_VERSION = "35.00 (5.2.3.0)"


def init_cluster(root: Path, spec: ClusterSpec = DEMO, *, mount_prefix: Path | None = None
                 ) -> sqlite3.Connection:
    """Create the cluster ``spec`` under ``root``; file systems mount at ``<prefix>/<fs>``."""
    root = Path(root).absolute()
    prefix = Path(mount_prefix).absolute() if mount_prefix else root / "gpfs"
    db = state.create(root)
    rng = random.Random()
    now = time.time()
    with state.transaction(db, write=True):
        first = spec.nodes[0][0] if spec.nodes else None
        db.execute("INSERT INTO cluster VALUES (1, ?, ?, ?, '/usr/bin/ssh', '/usr/bin/scp', "
                   "'CCR', ?, NULL, ?)",
                   (spec.name, str(rng.randrange(10**18, 10**19)), spec.name, first, first))
        for number, (name, designation) in enumerate(spec.nodes, start=1):
            db.execute("INSERT INTO nodes (number, name, ip, admin_name, designation) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (number, name, f"192.0.2.{number}", name, designation))
        disk_id = 1
        for fs in spec.filesystems:
            disk_id = _add_filesystem(root, db, fs, prefix / fs.name, first, disk_id, now,
                                      [n for n, _ in spec.nodes], rng)
    return db


def _add_filesystem(root: Path, db: sqlite3.Connection, fs: FilesystemSpec, mountpoint: Path,
                    manager: str | None, disk_id: int, now: float, nodes: list[str],
                    rng: random.Random) -> int:
    db.execute(
        "INSERT INTO filesystems (name, mountpoint, mounted_at, block_size, inode_size, "
        "min_fragment, max_inodes, alloc_inodes, created, version, manager_node, attrs) "
        "VALUES (?, ?, ?, ?, 4096, ?, ?, ?, ?, ?, ?, ?)",
        (fs.name, str(mountpoint), str(mountpoint), fs.block_size, fs.block_size // 512,
         fs.max_inodes, min(fs.max_inodes, 500_224), now, FS_VERSION, manager,
         json.dumps(_FS_ATTRS)))
    for pool_index, pool in enumerate(fs.pools):
        pool_id = 0 if pool.name == "system" else POOL_ID_BASE + pool_index - (
            1 if fs.pools[0].name == "system" else 0)
        db.execute("INSERT INTO pools (fs, name, id, block_size) VALUES (?, ?, ?, ?)",
                   (fs.name, pool.name, pool_id, fs.block_size))
        for disk in range(1, pool.disks + 1):
            db.execute(
                "INSERT INTO nsds (name, fs, pool, size_kb, failure_group, metadata, data, "
                "disk_id, volume_id, servers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (f"{fs.name}_{pool.name}_nsd{disk}", fs.name, pool.name, pool.disk_size_kb,
                 disk, int(pool.metadata), int(pool.data), disk_id,
                 f"C0A80001{rng.randrange(16**8):08X}", ",".join(nodes[:2])))
            disk_id += 1
    db.execute(
        "INSERT INTO filesets (fs, id, name, root_inode, status, junction, parent_id, created, "
        "comment, inode_space, is_inode_space_owner, max_inodes, alloc_inodes) "
        "VALUES (?, 0, 'root', 3, 'Linked', '', NULL, ?, 'root fileset', 0, 1, ?, ?)",
        (fs.name, now, fs.max_inodes, min(fs.max_inodes, 500_224)))
    db.execute("INSERT INTO policies VALUES (?, ?, 'default', 'root', ?, ?)",
               (fs.name, f"RULE 'default' SET POOL '{fs.default_pool}'\n",
                manager or "localhost", now))
    for node in nodes:
        db.execute("INSERT INTO mounts (fs, node) VALUES (?, ?)", (fs.name, node))
    mountpoint.mkdir(parents=True, exist_ok=True)
    os.chmod(mountpoint, 0o755)
    return disk_id


# The demo tree: (directory under the mount point, number of files, size of each, age in days).
DEMO_FILES = (
    ("home/alice", 6, 24_576, 3),
    ("home/bob", 4, 1_048_576, 40),
    ("labs/genomics/raw", 8, 262_144, 400),
    ("labs/genomics/results", 3, 65_536, 10),
    ("scratch", 5, 4_096, 200),
)


def add_demo_files(root: Path, fs: str = "mmfs1") -> int:
    """Write the demo tree into file system ``fs`` (owned by the caller); returns the number
    of files. Each file's modification time is its age in days ago."""
    db = state.connection(Path(root))
    mountpoint = Path(db.execute("SELECT mounted_at FROM filesystems WHERE name = ?",
                                 (fs,)).fetchone()[0])
    now = time.time()
    written = 0
    for directory, count, size, age_days in DEMO_FILES:
        target = mountpoint / directory
        target.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            path = target / f"file{index:02d}.dat"
            with open(path, "wb") as handle:
                handle.write(bytes([index % 251]) * size)
            stamp = now - age_days * 86400 - index * 3600
            os.utime(path, (stamp, stamp))
            written += 1
    return written
