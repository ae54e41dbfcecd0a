"""The scan's columns: policy attribute names, Arrow types, and vectorised builders.

A lister call (C or Python, see ``_walk``/``_pywalk``) returns flat per-row buffers; this
module turns them into the Arrow arrays of a RecordBatch, wrapping the buffers without
copying (PATH_NAME, NAME, INODE, FILE_SIZE, the times, MODE and MISC_ATTRIBUTES, which the
lister writes as text when asked, ...) and computing the per-directory columns
(FILESET_NAME, DIRECTORY_HASH) once per directory, expanded to rows with one take.

Where the values come from (an emulated file system is a POSIX tree, so some are derived):

=================== ==========================================================================
INODE, NLINK,       statx/lstat of the entry itself (symbolic links are not followed)
FILE_SIZE, USER_ID,
GROUP_ID, DEVICE_ID,
RDEVICE_ID
KB_ALLOCATED        allocated 512-byte blocks / 2, rounded up
BLOCKSIZE           the preferred I/O size (st_blksize)
*_TIME              float64 seconds since the epoch; CREATION_TIME is the birth time where
                    statx reports one, else the change time
GENERATION          a stable 32-bit hash of (inode, birth time): hard links share it, an
                    inode number reused by a new file gets a new one
MODE                ``ls -l`` text, e.g. '-rw-r--r--', 'drwxrwsr-t', 'lrwxrwxrwx'
MISC_ATTRIBUTES     F regular file, D directory, L symbolic link, O other; then X
                    (immutable), a (append-only), c (compressed), e (encrypted) from the
                    statx attributes
FILESET_NAME        the fileset of the deepest junction at or above the entry's directory
DIRECTORY_HASH      (depth << 32) | CRC-32 of the directory's path below the scan root: one
                    value per directory, larger for deeper ones
POOL_NAME           the extended attribute named by ``xattrs={'POOL_NAME': ...}``, else NULL
MODIFICATION_SNAPID 0 (snapshots are copies here, not copy-on-write)
USER_NAME,          from the passwd/group databases, NULL for unknown ids (on request)
GROUP_NAME
KIND                0 file, 1 directory, 2 symbolic link, 3 other (on request)
MODE_BITS           st_mode as a number (on request)
FLAG_BITS           1 immutable, 2 append-only, 4 compressed, 8 encrypted: the statx
                    attributes MISC_ATTRIBUTES spells out (on request)
=================== ==========================================================================
"""

from __future__ import annotations

import functools
import grp
import pwd
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpfskit.emulator.scan.walk import DIRECT_COLUMNS as _DIRECT

#: Every column the scan can produce, in batch order, with its Arrow type.
TYPES: dict[str, pa.DataType] = {
    "PATH_NAME": pa.binary(),
    "NAME": pa.binary(),
    "INODE": pa.int64(),
    "GENERATION": pa.int64(),
    "FILE_SIZE": pa.int64(),
    "KB_ALLOCATED": pa.int64(),
    "USER_ID": pa.int64(),
    "GROUP_ID": pa.int64(),
    "NLINK": pa.int64(),
    "MODE": pa.string(),
    "MISC_ATTRIBUTES": pa.string(),
    "FILESET_NAME": pa.string(),
    "POOL_NAME": pa.string(),
    "ACCESS_TIME": pa.float64(),
    "MODIFICATION_TIME": pa.float64(),
    "CHANGE_TIME": pa.float64(),
    "CREATION_TIME": pa.float64(),
    "DIRECTORY_HASH": pa.int64(),
    "DEVICE_ID": pa.int64(),
    "RDEVICE_ID": pa.int64(),
    "BLOCKSIZE": pa.int64(),
    "MODIFICATION_SNAPID": pa.int64(),
    "USER_NAME": pa.string(),
    "GROUP_NAME": pa.string(),
    "KIND": pa.uint8(),
    "MODE_BITS": pa.int64(),
    "FLAG_BITS": pa.uint8(),
}

#: Produced only when asked for by name: the owner's names (a lookup per distinct id), and
#: as numbers for cheap vectorised work, KIND (0 file, 1 directory, 2 symlink, 3 other),
#: the mode and the flags that MODE and MISC_ATTRIBUTES spell out as text.
EXTRA_COLUMNS: tuple[str, ...] = ("USER_NAME", "GROUP_NAME", "KIND", "MODE_BITS", "FLAG_BITS")
#: What ``columns=None`` gives: every column above but the extras.
ALL_COLUMNS: tuple[str, ...] = tuple(name for name in TYPES if name not in EXTRA_COLUMNS)
#: Always present: what a file-list record needs (``records.write_records``).
REQUIRED_COLUMNS: frozenset[str] = frozenset({"INODE", "GENERATION", "PATH_NAME"})

#: KIND values (also the first MISC_ATTRIBUTES letter: F, D, L, O).
KIND_FILE, KIND_DIR, KIND_LINK, KIND_OTHER = 0, 1, 2, 3


def _array(typ: pa.DataType, n: int, data: Any) -> pa.Array:
    """A fixed-width array over ``data`` (any buffer-protocol object) without copying."""
    return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(data)])


def _binary(typ: pa.DataType, n: int, offsets: Any, data: Any) -> pa.Array:
    return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def take_strings(dictionary: pa.Array, index: np.ndarray) -> pa.Array:
    """``dictionary[index]`` as a plain string array; a negative index gives NULL."""
    if len(dictionary) == 0 or (len(index) and index.min() < 0):
        return pc.take(dictionary, pa.array(index, pa.int32(), mask=index < 0))
    return pc.take(dictionary, pa.array(index, pa.int32()))


@functools.lru_cache(maxsize=4096)
def _user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return None


@functools.lru_cache(maxsize=4096)
def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except (KeyError, OverflowError):
        return None


def id_names(ids: np.ndarray, lookup: Any) -> pa.Array:
    """User or group names for an id array: one lookup per distinct id (NULL if unknown)."""
    if len(ids) and ids.min() == ids.max():
        return pc.take(pa.array([lookup(int(ids[0]))], pa.string()),
                       pa.array(np.zeros(len(ids), np.int32)))
    distinct, index = np.unique(ids, return_inverse=True)
    names = pa.array([lookup(i) for i in distinct.tolist()], pa.string())
    return pc.take(names, pa.array(index.astype(np.int32, copy=False)))


def _xattr_array(typ: pa.DataType, n: int, blob: Any, offsets: Any, valid: Any) -> pa.Array:
    valid_np = np.frombuffer(valid, np.uint8)
    nulls = n - int(np.count_nonzero(valid_np))
    bitmap = None
    if nulls:
        bitmap = pa.py_buffer(np.packbits(valid_np.astype(bool), bitorder="little"))
    array = pa.Array.from_buffers(
        pa.binary(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(blob)], null_count=nulls
    )
    if typ == pa.binary():
        return array
    try:
        return array.cast(typ)
    except pa.ArrowInvalid:  # not valid UTF-8: decode what can be decoded
        return pa.array(
            [v.decode("utf-8", "replace") if v is not None else None for v in array.to_pylist()],
            typ,
        )


def build_batch(
    listing: dict[str, Any],
    schema: pa.Schema,
    *,
    dir_fileset: np.ndarray,
    filesets: pa.Array,
    dir_hash: np.ndarray | None,
    fileset_fixes: Sequence[tuple[int, int]] = (),
    xattr_columns: Mapping[str, int] | None = None,
) -> pa.RecordBatch:
    """A RecordBatch with the ``schema`` columns from one lister result.

    ``dir_fileset`` holds the fileset index (into ``filesets``; -1 = none) of each listed
    directory, ``dir_hash`` its DIRECTORY_HASH; ``fileset_fixes`` gives (row, fileset) for
    rows that are themselves fileset junctions. ``xattr_columns`` maps column names to the
    position of their attribute in the lister's ``xattrs`` output.
    """
    n = listing["n"]
    cols = listing["columns"]
    arrays: list[pa.Array] = []
    for field in schema:
        name = field.name
        if xattr_columns and name in xattr_columns:
            blob, offsets, valid = cols["xattrs"][xattr_columns[name]]
            arrays.append(_xattr_array(field.type, n, blob, offsets, valid))
            continue
        if name == "PATH_NAME":
            a = _binary(pa.binary(), n, cols["path_offsets"], cols["paths"])
        elif name == "NAME":
            a = _binary(pa.binary(), n, cols["name_offsets"], cols["names"])
        elif name in _DIRECT:
            a = _array(field.type, n, cols[_DIRECT[name]])
        elif name == "MODE":
            a = _binary(pa.string(), n, np.arange(0, 10 * n + 1, 10, dtype=np.int32),
                        cols["modes"])
        elif name == "MISC_ATTRIBUTES":
            a = _binary(pa.string(), n, cols["misc_offsets"], cols["misc"])
        elif name == "FILESET_NAME":
            index = dir_fileset[np.frombuffer(cols["dir"], np.int32)]
            for row, fileset in fileset_fixes:
                index[row] = fileset
            a = take_strings(filesets, index)
        elif name == "DIRECTORY_HASH":
            assert dir_hash is not None
            a = pa.array(dir_hash[np.frombuffer(cols["dir"], np.int32)])
        elif name == "USER_NAME":
            a = id_names(np.frombuffer(cols["uid"], np.int64), _user_name)
        elif name == "GROUP_NAME":
            a = id_names(np.frombuffer(cols["gid"], np.int64), _group_name)
        elif name == "MODIFICATION_SNAPID":
            a = pa.array(np.zeros(n, np.int64))
        elif name == "POOL_NAME" or name.startswith("XATTR"):
            a = pa.nulls(n, field.type)
        else:  # pragma: no cover - the schema is built from TYPES
            raise KeyError(name)
        arrays.append(a)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
