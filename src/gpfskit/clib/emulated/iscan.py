"""The emulated inode scan: every inode of a file system (or snapshot, or fileset) in inode
order, with the attributes ``gpfs_next_inode64`` fills in.

The tree is listed once with the policy scanner (its C lister: getdents64 + statx, two
threads, GIL released) with every kind of object; hard links collapse to one inode; the
columns are sorted by inode number and kept as numpy arrays. ``next_inode`` then hands out
``iattr`` records made one at a time in C (``_walk.Records``) from those arrays.

What comes from the emulator's state: ``ia_filesetid`` (the fileset of the deepest junction
above, ``placement.fileset_at``), ``ia_datapoolid`` (the pool recorded on the file, else the
one placement chooses, as ``mmapplypolicy`` computes POOL_NAME) and ``ia_modsnapid`` (the id
of the latest snapshot taken before the file's last modification, 0 when none: an
incremental scan since snapshot S returns the inodes with ``ia_modsnapid >= S``).

Kept cheap on purpose: ``ia_repl_*`` are the file system's default and maximum factors
(``file.get_replication(fd)`` reads a file's own), and ``ia_flags`` shows IMMUTABLE /
APPENDONLY from the Linux inode flags, which the emulator sets only when it runs as root.
"""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpfskit.clib import flags
from gpfskit.clib.emulated.model import Model, Target
from gpfskit.clib.types import IATTR_FIELDS, iattr
from gpfskit.emulator import fileattrs, placement
from gpfskit.emulator.placement_vectorized import pool_column
from gpfskit.emulator.scan import _pywalk, scan, subtree_junctions
from gpfskit.emulator.scan.columns import KIND_DIR
from gpfskit.language.evaluate import EvalContext

_COLUMNS = ("INODE", "GENERATION", "FILE_SIZE", "KB_ALLOCATED", "USER_ID", "GROUP_ID", "NLINK",
            "MODE", "MISC_ATTRIBUTES", "ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME",
            "CREATION_TIME", "DEVICE_ID", "RDEVICE_ID", "BLOCKSIZE", "FILESET_NAME", "KIND")
#: Only the pool is read per inode: each extended attribute costs a system call per file
#: (measured: 1 adds ~40% to the listing, 5 more than triple it).
_XATTRS = {"GPFSKIT_POOL": fileattrs.POOL}
try:
    from gpfskit.emulator.scan._walk import Records  # type: ignore[import]
except ImportError:  # the extension is not built
    Records = _pywalk.Records
_TYPE_BITS = {ord("d"): 0o040000, ord("-"): 0o100000, ord("l"): 0o120000, ord("p"): 0o010000,
              ord("c"): 0o020000, ord("b"): 0o060000, ord("s"): 0o140000}


def _mode_bits(modes: np.ndarray) -> np.ndarray:
    """st_mode from the 10-character ``ls -l`` strings of a scan (n x 10 uint8)."""
    out = np.zeros(len(modes), np.int64)
    for letter, bits in _TYPE_BITS.items():
        out[modes[:, 0] == letter] |= bits
    for i, (ch, bit) in enumerate(zip("rwxrwxrwx", (0o400, 0o200, 0o100, 0o40, 0o20, 0o10,
                                                   0o4, 0o2, 0o1), strict=True)):
        col = modes[:, i + 1]
        out[(col == ord(ch)) | (col == ord("s")) | (col == ord("t"))] |= bit
    for i, special, upper, lower in ((3, 0o4000, "S", "s"), (6, 0o2000, "S", "s"),
                                     (9, 0o1000, "T", "t")):
        col = modes[:, i]
        out[(col == ord(upper)) | (col == ord(lower))] |= special
    return out


def _index_in(values: pa.Array, names: list[str]) -> np.ndarray:
    """Position of each value in ``names``; ``len(names)`` for a null or unknown one."""
    index = pc.index_in(values, value_set=pa.array(names, pa.string()))
    return np.asarray(pc.fill_null(index, len(names))).astype(np.int64)


class InodeTable:
    """The inodes of one target, sorted by number, as numpy columns in ``iattr`` order."""

    def __init__(self, model: Model, target: Target, since_snap_id: int | None = None,
                 max_inode: int | None = None) -> None:
        self.model = model
        self.target = target
        fs = target.fs
        junctions_fs = model.junctions(fs)
        rows = model.filesets(fs["name"])
        by_name = {r["name"]: r for r in rows}
        independent = {j for j, n in junctions_fs.items()
                       if j and by_name.get(n) is not None and by_name[n]["is_inode_space_owner"]}
        junctions = subtree_junctions(junctions_fs, target.live_rel)
        skip = set()
        if target.fileset is not None:   # only the fileset's inode space
            space = by_name[target.fileset]["inode_space"]
            for j, name in junctions.items():
                if j and by_name.get(name) is not None and by_name[name]["inode_space"] != space:
                    skip.add(j)
        place = placement.load(model.db, fs["name"])
        columns = set(_COLUMNS) | set(place.columns)
        hidden = {j[len(target.live_rel):].lstrip("/") if target.live_rel else j
                  for j in independent if target.live_rel == "" or j.startswith(
                      target.live_rel + "/")}
        run = scan(target.path, visible_root=target.path, junctions=junctions,
                   independent=hidden if target.snapshot is None else (),
                   columns=columns, directories_plus=True, skip_dirs=skip, xattrs=_XATTRS)
        batches = list(run)
        self.problems = run.stats.problems
        self._fill(pa.Table.from_batches(batches) if batches else None, place, by_name,
                   since_snap_id, max_inode)

    def _fill(self, table: pa.Table | None, place: placement.PlacementHistory,
              by_name: dict[str, sqlite3.Row], since: int | None, max_inode: int | None) -> None:
        fs = self.target.fs
        if table is None or table.num_rows == 0:
            self.columns = [np.zeros(0, np.int64) for _ in IATTR_FIELDS]
            self.inodes = self.columns[3]
            return
        ino = table.column("INODE").to_numpy()
        ino_sorted, first = np.unique(ino, return_index=True)   # hard links: one inode
        # One copy of the rows, in inode order, of the columns used below (the paths, the
        # largest column, only when placement reads them).
        used = [c for c in table.column_names if c != "PATH_NAME" or c in place.columns]
        batch = table.select(used).take(pa.array(first)).combine_chunks().to_batches()[0]
        n = batch.num_rows
        col = lambda name: np.asarray(batch.column(name))  # noqa: E731
        kind = col("KIND")
        modes = np.frombuffer(batch.column("MODE").buffers()[2], np.uint8,
                              count=10 * n, offset=batch.column("MODE").offset * 10
                              ).reshape(n, 10)
        attrs = json.loads(fs["attrs"] or "{}")
        repl_data = np.full(n, int(attrs.get("defaultDataReplicas", 1) or 1), np.int64)
        repl_meta = np.full(n, int(attrs.get("defaultMetadataReplicas", 1) or 1), np.int64)
        misc = batch.column("MISC_ATTRIBUTES")
        iaflags = np.where(np.asarray(pc.match_substring(misc, "X")),
                           flags.IAFLAGS["IMMUTABLE"], 0) | np.where(
            np.asarray(pc.match_substring(misc, "a")), flags.IAFLAGS["APPENDONLY"], 0)
        fileset_names = batch.column("FILESET_NAME")
        filesets = sorted(by_name)
        fileset_index = _index_in(fileset_names, filesets)
        filesetid = np.array([by_name[f]["id"] for f in filesets] + [0], np.int64)[fileset_index]
        spaces = np.array([by_name[f]["inode_space"] for f in filesets] + [0],
                          np.int64)[fileset_index]
        pool_names = pool_column(place, batch, EvalContext(current_timestamp=time.time()),
                                 recorded=batch.column("GPFSKIT_POOL"),
                                 directories=kind == KIND_DIR)
        pool_ids = self.model.pool_ids(fs["name"])
        pools = sorted(pool_ids)
        datapool = np.array([pool_ids[p] for p in pools] + [0],
                            np.int64)[_index_in(pool_names, pools)]
        mtime = col("MODIFICATION_TIME")
        modsnap = self._modsnapids(mtime, fileset_names)
        zeros = np.zeros(n, np.int64)
        self.columns = [
            _mode_bits(modes), col("USER_ID"), col("GROUP_ID"), ino_sorted, col("GENERATION"),
            col("NLINK"), col("FILE_SIZE"), col("KB_ALLOCATED") * 2, col("ACCESS_TIME"), mtime,
            col("CHANGE_TIME"), col("CREATION_TIME"), zeros, iaflags, repl_data,
            np.full(n, int(attrs.get("maxDataReplicas", 2) or 2), np.int64), repl_meta,
            np.full(n, int(attrs.get("maxMetadataReplicas", 2) or 2), np.int64),
            np.full(n, int(fs["block_size"]), np.int64), zeros, col("DEVICE_ID"),
            col("RDEVICE_ID"), zeros, modsnap, filesetid, datapool, spaces]
        keep = np.ones(n, bool)
        if since is not None:
            keep &= modsnap >= since
        if max_inode:
            keep &= ino_sorted <= max_inode
        if not keep.all():
            self.columns = [c[keep] for c in self.columns]
        self.columns = [np.ascontiguousarray(c, np.float64 if c.dtype.kind == "f" else np.int64)
                        for c in self.columns]
        self.inodes = self.columns[3]

    def _modsnapids(self, mtime: np.ndarray, fileset_names: pa.Array) -> np.ndarray:
        snaps = [s for s in self.model.snapshots(self.target.fs["name"])
                 if self.target.snapshot is None
                 or s["snap_id"] < self.target.snapshot["snap_id"]]
        out = np.zeros(len(mtime), np.int64)
        if not snaps:
            return out
        scopes = {s["fileset"] for s in snaps}
        for scope in scopes:
            chosen = [s for s in snaps if s["fileset"] is None or s["fileset"] == scope]
            created = np.array([s["created"] for s in chosen])
            ids = np.array([s["snap_id"] for s in chosen], np.int64)
            order = np.argsort(created, kind="stable")
            created, ids = created[order], np.maximum.accumulate(ids[order])
            k = np.searchsorted(created, mtime, side="right")
            value = np.where(k > 0, ids[np.maximum(k - 1, 0)], 0)
            mask = np.ones(len(mtime), bool) if scope is None else np.asarray(
                pc.fill_null(pc.equal(fileset_names, scope), False))
            out[mask] = np.maximum(out[mask], value[mask])
        return out

    def __len__(self) -> int:
        return len(self.inodes)

    def position_of(self, ino: int) -> int:
        """Index of the first inode numbered ``ino`` or above."""
        return int(np.searchsorted(self.inodes, ino, side="left"))

    def records(self) -> Records:
        """A cursor over the table's ``iattr`` records, at the first inode."""
        return Records(iattr, self.columns)
