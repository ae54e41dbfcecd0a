"""The emulated inode scan: every inode of a file system (or snapshot, or fileset) in inode
order, with the attributes ``gpfs_next_inode64`` fills in.

The tree is listed once with the policy scanner (its C lister: getdents64 + statx, two
threads, GIL released) with every kind of object and no paths. The columns stay numpy
arrays in listing order (one value where every inode has the same), beside the order of
their rows by inode number (one row per inode: hard links collapse). ``next_inode`` then
hands out ``iattr`` records in C (``_walk.Records``) that read a field from those arrays
when it is read, so nothing is gathered into inode order: a scan pays for the fields it
reads. Consecutive inodes are mostly listed close together (a directory's files), so those
reads stay in the cache. The recorded pools come from the scan's
memo (``scan.memo``) for files unchanged since the last scan of the same target, and are
read for the others.

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
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpfskit.clib import flags
from gpfskit.clib.emulated.model import Model, Target
from gpfskit.clib.types import IATTR_FIELDS, iattr
from gpfskit.emulator import fileattrs, layout, placement
from gpfskit.emulator.placement_vectorized import pool_column
from gpfskit.emulator.scan import _pywalk, scan, subtree_junctions
from gpfskit.emulator.scan.columns import KIND_DIR
from gpfskit.emulator.scan.memo import XattrMemo
from gpfskit.language.evaluate import EvalContext

_COLUMNS = ("INODE", "GENERATION", "FILE_SIZE", "KB_ALLOCATED", "USER_ID", "GROUP_ID", "NLINK",
            "MODE_BITS", "FLAG_BITS", "ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME",
            "CREATION_TIME", "DEVICE_ID", "RDEVICE_ID", "FILESET_NAME", "KIND")
#: Only the pool is read per inode: each extended attribute costs a system call per file
#: (measured: 1 adds ~40% to the listing, 5 more than triple it), except where the scan's
#: memo shows the file unchanged since the last scan.
_XATTRS = {"GPFSKIT_POOL": fileattrs.POOL}
#: The listed columns ``iattr`` takes as they are.
_LISTED = ("MODE_BITS", "USER_ID", "GROUP_ID", "GENERATION", "NLINK", "FILE_SIZE",
             "KB_ALLOCATED", "ACCESS_TIME", "CHANGE_TIME", "CREATION_TIME", "DEVICE_ID",
             "RDEVICE_ID", "FLAG_BITS")
try:
    from gpfskit.emulator.scan._walk import Records  # type: ignore[import]
except ImportError:  # the extension is not built
    Records = _pywalk.Records


def _index_in(values: pa.ChunkedArray | pa.Array, names: list[str]) -> np.ndarray:
    """Position of each value in ``names``; ``len(names)`` for a null or unknown one."""
    index = pc.index_in(values, value_set=pa.array(names, pa.string()))
    return np.asarray(pc.fill_null(index, len(names))).astype(np.int64)


def _constant(value: int) -> np.ndarray:
    """A column of one value for every inode: a 0-d array, as ``Records`` takes it."""
    return np.array(value, np.int64)


def _inode_order(ino: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct inode numbers, sorted, and a row holding each (hard links: one)."""
    order = np.argsort(ino)      # SIMD quicksort: about half what np.unique's mergesort costs
    ordered = ino[order]
    first = np.empty(len(ordered), bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first], order[first]


class InodeTable:
    """The inodes of one target as numpy columns in ``iattr`` order, in listing order, and
    ``order``: the rows in inode order (one per inode: hard links are listed more than once),
    through which ``Records`` reads them."""

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
        key = "inode-scan"
        if target.snapshot is not None:
            key += f"-snapshot-{target.snapshot['snap_id']}"
        if target.fileset is not None:
            key += f"-fileset-{by_name[target.fileset]['id']}"
        memo = XattrMemo(layout.scan_memo(model.root, fs["name"], key),
                         [os.fsencode(x) for x in _XATTRS.values()])
        run = scan(target.path, visible_root=target.path, junctions=junctions,
                   independent=hidden if target.snapshot is None else (),
                   columns=columns, paths="PATH_NAME" in columns, directories_plus=True,
                   skip_dirs=skip, xattrs=_XATTRS, xattr_memo=memo)
        batches = list(run)
        self.problems = run.stats.problems
        self._fill(pa.Table.from_batches(batches) if batches else None, place, by_name,
                   since_snap_id, max_inode)

    def _fill(self, table: pa.Table | None, place: placement.PlacementHistory,
              by_name: dict[str, sqlite3.Row], since: int | None, max_inode: int | None) -> None:
        """The ``iattr`` columns, in listing order, and the rows in inode order."""
        fs = self.target.fs
        if table is None or table.num_rows == 0:
            self.columns = [np.zeros(0, np.int64) for _ in IATTR_FIELDS]
            self.order = self.inodes = np.zeros(0, np.int64)
            return
        filesets = sorted(by_name)

        def col(name: str) -> np.ndarray:
            """A listed column; a 0-d array where every inode has the same value (a
            constant to ``Records``: no memory)."""
            values = table.column(name).to_numpy()
            return values[0] if values.min() == values.max() else values

        # NumPy's sort and pyarrow's kernels let go of the GIL: on two threads, the sort
        # runs beside the pools and the columns.
        with ThreadPoolExecutor(2, thread_name_prefix="gpfskit-iscan") as threads:
            ino = table.column("INODE").to_numpy()
            order = threads.submit(_inode_order, ino)
            pool_rows = threads.submit(self._pool_ids, table, place)
            fileset_index = _index_in(table.column("FILESET_NAME"), filesets)
            c = {name: col(name) for name in _LISTED}
            inodes, rows = order.result()
            datapool = pool_rows.result()
        iaflags = (np.where(c["FLAG_BITS"] & _pywalk.FLAG_IMMUTABLE, flags.IAFLAGS["IMMUTABLE"], 0)
                   | np.where(c["FLAG_BITS"] & _pywalk.FLAG_APPEND, flags.IAFLAGS["APPENDONLY"], 0))
        filesetid = np.array([by_name[f]["id"] for f in filesets] + [0], np.int64)[fileset_index]
        spaces = np.array([by_name[f]["inode_space"] for f in filesets] + [0],
                          np.int64)[fileset_index]
        mtime = table.column("MODIFICATION_TIME").to_numpy()
        modsnap = self._modsnapids(mtime, fileset_index, filesets)
        attrs = json.loads(fs["attrs"] or "{}")
        factor = lambda name, default: _constant(  # noqa: E731
            int(attrs.get(name, default) or default))
        columns = [
            c["MODE_BITS"], c["USER_ID"], c["GROUP_ID"], ino, c["GENERATION"], c["NLINK"],
            c["FILE_SIZE"], c["KB_ALLOCATED"] * 2, c["ACCESS_TIME"], mtime,
            c["CHANGE_TIME"], c["CREATION_TIME"], _constant(0), iaflags,
            factor("defaultDataReplicas", 1), factor("maxDataReplicas", 2),
            factor("defaultMetadataReplicas", 1), factor("maxMetadataReplicas", 2),
            _constant(int(fs["block_size"])), _constant(0), c["DEVICE_ID"], c["RDEVICE_ID"],
            _constant(0), modsnap, filesetid, datapool, spaces]
        keep = np.ones(len(rows), bool)
        if since is not None:
            keep &= modsnap[rows] >= since
        if max_inode:
            keep &= inodes <= max_inode
        if not keep.all():
            rows, inodes = rows[keep], inodes[keep]
        self.columns = [np.asarray(c, np.float64 if c.dtype.kind == "f" else np.int64)
                        for c in columns]
        self.order, self.inodes = rows, inodes

    def _pool_ids(self, table: pa.Table, place: placement.PlacementHistory) -> np.ndarray:
        """``ia_datapoolid`` of every listed row: the pool recorded on it, else the one
        placement chooses (as ``mmapplypolicy`` computes POOL_NAME), batch by batch."""
        pool_ids = self.model.pool_ids(self.target.fs["name"])
        pools = sorted(pool_ids)
        ids = np.array([pool_ids[p] for p in pools] + [0], np.int64)
        ctx = EvalContext(current_timestamp=time.time())
        return np.concatenate([
            ids[_index_in(pool_column(place, batch, ctx, recorded=batch.column("GPFSKIT_POOL"),
                                      directories=np.asarray(batch.column("KIND")) == KIND_DIR),
                          pools)]
            for batch in table.to_batches()])

    def _modsnapids(self, mtime: np.ndarray, fileset_index: np.ndarray, filesets: list[str]
                    ) -> np.ndarray:
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
            if scope is None:
                mask = np.ones(len(mtime), bool)
            else:
                mask = fileset_index == (filesets.index(scope) if scope in filesets else -1)
            out[mask] = np.maximum(out[mask], value[mask])
        return out

    def __len__(self) -> int:
        return len(self.inodes)

    def position_of(self, ino: int) -> int:
        """Index of the first inode numbered ``ino`` or above."""
        return int(np.searchsorted(self.inodes, ino, side="left"))

    def records(self) -> Records:
        """A cursor over the table's ``iattr`` records, at the first inode."""
        return Records(iattr, self.columns, IATTR_FIELDS.index("ia_inode"), self.order)
