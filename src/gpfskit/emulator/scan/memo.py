"""Extended attributes kept between scans, and trusted while change times show them current.

A scan that reads an extended attribute (the pool recorded on a file, say) makes one system
call per file for it, about as costly as the ``statx`` it makes anyway. Between two scans
most files' attributes stay as they were, and the kernel tells which may not have: setting
or removing an extended attribute, and linking, unlinking or renaming a file, all set the
file's change time (ctime) to the time of the change, and nothing sets it back. So a scan
that starts at time T keeps the values it read and the inodes of the directories it listed
in full; a later scan may take an entry's values from it, instead of reading them, when

* the entry's ctime is before T (less ``SLACK_NS``: a change time can run a clock tick
  behind the clock, and a little more guards against the clock stepping back), and
* the directory it is listed in is one of those directories (by inode, on the same device).

Why that is enough: the entry was then linked into that directory before T and has not been
relinked since (that would have set its ctime), so the earlier scan, which listed the whole
directory after T, read its values, and nothing has changed them since (that too would have
set its ctime). A directory inode reused by a new directory holds only entries linked after
T, which are read. It is the reasoning of git's index, which trusts a file's recorded stat
data the same way. What it rests on: change times from one clock that does not step back
by more than the slack, and no writer that restores change times (none can, short of
changing the clock).

What counts as a directory "listed in full": every entry a row and its attributes read (no
prefilter, nothing hidden, no stat error, no read failing for another reason than the
attribute's absence), on the memo's device; a directory listed in parts by several lister
calls only when every part was, and its path named that one directory each time (the C
lister reopens it by path to go on). Values are learnt for entries of that device only.

A memo is saved only by a scan that listed every entry (directories and all, no prefilter)
without an error or a skipped directory. It is used only by the user who saved it (what a
user may read differs), from a file that user owns. A memo that cannot be read, is of
another device or user, or names other attributes is ignored; one that cannot be written
is skipped. Change times must come from this machine's clock: on a network file system,
whose server sets them, no memo is kept.
"""

from __future__ import annotations

import ctypes
import logging
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

#: How far before a scan's start its memo vouches for change times.
SLACK_NS = 1_000_000_000
_VERSION = 1
#: The lister's memo argument: (before_ns, dev, dirs, [(inos, offsets, blob) per attribute]).
ListerMemo = tuple[int, int, np.ndarray, list[tuple[np.ndarray, np.ndarray, bytes]]]
#: statfs f_type of the file systems whose change times a server's clock sets.
_NETWORK_FS = frozenset({
    0x6969, 0xFF534D42, 0xFE534D42, 0x517B, 0x00C36400, 0x65735546, 0x01021997, 0x0BD00BD0,
    # nfs,  cifs,       smb2,       smb,    ceph,       fuse,       9p,         lustre,
    0x47504653, 0x5346414F, 0x7461636F, 0x01161970, 0x19830326, 0x786F4256})
    # gpfs,     afs,        ocfs2,      gfs2,       beegfs,     vboxsf


_libc = ctypes.CDLL(None, use_errno=True)


def clock_is_local(path: str | os.PathLike[str]) -> bool:
    """Whether this machine's clock sets the change times under ``path`` (False on a
    network file system, or when statfs fails)."""
    buf = ctypes.create_string_buffer(256)         # struct statfs; f_type comes first
    if _libc.statfs(os.fsencode(path), buf) != 0:
        return False
    return ctypes.c_long.from_buffer(buf).value & 0xFFFFFFFF not in _NETWORK_FS


class XattrMemo:
    """The memo file at ``path`` for scans reading the attributes ``names`` (bytes), and
    what the current scan learns for the next one."""

    def __init__(self, path: str | os.PathLike[str], names: Sequence[bytes]) -> None:
        self.path = Path(path)
        self.names = [bytes(n) for n in names]
        self._lock = threading.Lock()
        self._before = 0
        self._dev = -1
        self._kept = False
        self._listed: list[tuple[bytes, int, bool]] = []
        self._inos: list[list[np.ndarray]] = [[] for _ in self.names]
        self._values: list[list[pa.Array]] = [[] for _ in self.names]

    # the scan's side ----------------------------------------------------------------------
    def begin(self, tree: str | os.PathLike[str]) -> ListerMemo | None:
        """The lister's memo argument for a scan of ``tree`` starting now (what an earlier
        scan with this object learnt is forgotten); None where no memo is kept."""
        now = time.time_ns()
        self._dev = os.stat(tree).st_dev
        self._before = now - SLACK_NS
        self._listed = []
        self._inos = [[] for _ in self.names]
        self._values = [[] for _ in self.names]
        self._kept = clock_is_local(tree)
        if not self._kept:
            return None
        old = self._load()
        if old is None or old[1] != self._dev or old[0] > now:   # (> now: the clock went back)
            empty = np.zeros(0, np.int64)
            return (0, self._dev, empty, [(empty, np.zeros(1, np.int32), b"")
                                          for _ in self.names])
        return old

    def listed(self, result: dict[str, Any], dirs: Sequence[bytes]) -> None:
        """Take note of the directories (``dirs``, relative paths) one lister call listed,
        from its ``listed`` output."""
        if result.get("listed") is None:
            return
        inos_raw, ok_raw = result["listed"]
        found = zip(dirs, np.frombuffer(inos_raw, np.int64).tolist(),
                    np.frombuffer(ok_raw, np.uint8).tolist(), strict=True)
        with self._lock:
            self._listed.extend((rel, ino, bool(ok)) for rel, ino, ok in found if ino >= 0)

    def learn(self, batch: pa.RecordBatch, columns: Sequence[str]) -> None:
        """Take note of the values of one batch: its ``columns`` hold the attributes, in
        ``names`` order. Rows of other devices are left out (inode numbers are per device)."""
        here = pc.equal(batch.column("DEVICE_ID"), self._dev)
        inodes = batch.column("INODE")
        for k, name in enumerate(columns):
            column = batch.column(name)
            present = pc.and_(here, column.is_valid())
            if not pc.any(present).as_py():
                continue
            values = column.filter(present)
            if not pa.types.is_binary(values.type):
                values = values.cast(pa.binary())
            with self._lock:
                self._inos[k].append(np.asarray(inodes.filter(present), np.int64))
                self._values[k].append(values)

    def _vouched_dirs(self) -> np.ndarray:
        """The directories listed in full: every part of each was complete, and no path was
        listed as two directories (one replaced by another between the calls that listed its
        parts, which reopen it by path)."""
        inodes_at: dict[bytes, set[int]] = {}
        complete: set[int] = set()
        incomplete: set[int] = set()
        for rel, ino, ok in self._listed:
            inodes_at.setdefault(rel, set()).add(ino)
            (complete if ok else incomplete).add(ino)
        for inodes in inodes_at.values():
            if len(inodes) > 1:
                incomplete |= inodes
        return np.array(sorted(complete - incomplete), np.int64)

    def save(self) -> None:
        """Write what this scan learnt, for the next one (a complete scan only)."""
        if not self._kept:
            return
        dirs = self._vouched_dirs()
        arrays: dict[str, np.ndarray] = {
            "version": np.array(_VERSION), "before": np.array(self._before, np.int64),
            "dev": np.array(self._dev, np.int64), "uid": np.array(os.geteuid(), np.int64),
            "dirs": dirs,
            "names": np.frombuffer(b"\0".join(self.names), np.uint8)}
        for k in range(len(self.names)):
            inos, offsets, blob = _sorted_values(self._inos[k], self._values[k])
            if offsets[-1] >= 2**31 - 1:
                return                                   # too large for int32 offsets
            arrays[f"inos{k}"], arrays[f"offsets{k}"] = inos, offsets
            arrays[f"blob{k}"] = np.frombuffer(blob, np.uint8)
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:      # mode 0600: the pools of what its user read
                np.savez(f, **arrays)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.debug("scan memo %s not saved: %s", self.path, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    # the file -----------------------------------------------------------------------------
    def _load(self) -> ListerMemo | None:
        try:
            with open(self.path, "rb") as f, np.load(f, allow_pickle=False) as data:
                if os.fstat(f.fileno()).st_uid != os.geteuid():
                    return None                       # not ours: not to be trusted
                if (int(data["version"]) != _VERSION or int(data["uid"]) != os.geteuid()
                        or bytes(data["names"]) != b"\0".join(self.names)):
                    return None
                dirs = data["dirs"].astype(np.int64, copy=False)
                values = [(data[f"inos{k}"].astype(np.int64, copy=False),
                           data[f"offsets{k}"].astype(np.int32, copy=False),
                           data[f"blob{k}"].tobytes()) for k in range(len(self.names))]
                memo = (int(data["before"]), int(data["dev"]), dirs, values)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            log.debug("scan memo %s ignored: %s", self.path, exc)
            return None
        if not _well_formed(dirs, values):
            log.debug("scan memo %s ignored: malformed", self.path)
            return None
        return memo


def _sorted_values(inos: list[np.ndarray], values: list[pa.Array]
                   ) -> tuple[np.ndarray, np.ndarray, bytes]:
    """One attribute's (inodes, offsets, blob), sorted by inode, one value per inode."""
    if not inos:
        return np.zeros(0, np.int64), np.zeros(1, np.int32), b""
    all_inos = np.concatenate(inos)
    unique, first = np.unique(all_inos, return_index=True)   # hard links: one value
    taken = pa.concat_arrays(values).take(pa.array(first))
    offsets = np.frombuffer(taken.buffers()[1], np.int32, len(taken) + 1, taken.offset * 4)
    blob = taken.buffers()[2]
    start, end = int(offsets[0]), int(offsets[-1])
    return unique, (offsets - start).astype(np.int32), (
        blob.to_pybytes()[start:end] if blob is not None else b"")


def _well_formed(dirs: np.ndarray, values: list[tuple[np.ndarray, np.ndarray, bytes]]) -> bool:
    def strictly_sorted(a: np.ndarray) -> bool:
        return a.ndim == 1 and bool(np.all(a[1:] > a[:-1]))

    if not strictly_sorted(dirs):
        return False
    for inos, offsets, blob in values:
        if not strictly_sorted(inos) or offsets.ndim != 1 or len(offsets) != len(inos) + 1:
            return False
        if offsets[0] != 0 or offsets[-1] != len(blob) or np.any(offsets[1:] < offsets[:-1]):
            return False
    return True
