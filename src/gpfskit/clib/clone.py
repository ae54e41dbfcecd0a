"""File clones (gpfs_clone_*): a read-only clone parent, and writable clones that share its
data blocks until they are written.

``clone_snap`` and ``clone_copy`` pass libgpfs paths; ``clone_split``, ``clone_unsnap`` and
``declone`` open the file and pass the descriptor, as gpfs.h declares them. Each needs the
access its file operation does: reading the source, creating the destination, writing the
clone (the file is opened read-write; a clone parent, which is read-only, for reading).

Clones need a real cluster: the emulated one's plain files share no blocks, so it answers
ENOSYS for a path in one of its file systems (EINVAL elsewhere, as libgpfs does; see
docs/clib.md), and a script can fall back to a copy.
"""

from __future__ import annotations

import os

from gpfskit.clib import backend

__all__ = ["GPFS_CLONE_ALL", "GPFS_CLONE_PARENT_ONLY", "clone_copy", "clone_snap",
           "clone_split", "clone_unsnap", "declone"]

#: How far up the chain of clone parents ``clone_split`` and ``declone`` go.
GPFS_CLONE_ALL, GPFS_CLONE_PARENT_ONLY = 0, 1
_INT64 = range(-2**63, 2**63)


def clone_snap(source: str, dest: str | None = None) -> None:
    """Make a read-only clone parent of ``source``: the new file ``dest``, or ``source``
    itself when ``dest`` is None (then nothing may hold it open for writing, and it must
    have no other hard links)."""
    backend.current().clone_paths(
        "clone_snap", _path(source, "source"), None if dest is None else _path(dest, "dest"))


def clone_copy(source: str, dest: str) -> None:
    """Make the new file ``dest`` a writable clone of the clone parent ``source``."""
    backend.current().clone_paths("clone_copy", _path(source, "source"), _path(dest, "dest"))


def clone_split(pathname: str, ancestor_limit: int = GPFS_CLONE_ALL) -> None:
    """Make the clone ``pathname`` independent of its parents (``GPFS_CLONE_PARENT_ONLY``:
    of its immediate parent only) once ``declone`` has copied the blocks it shared."""
    backend.current().clone_file("clone_split", _path(pathname, "pathname"),
                                 _ancestor_limit(ancestor_limit))


def clone_unsnap(pathname: str) -> None:
    """Make the clone parent ``pathname``, which no clone may still share, a plain file."""
    backend.current().clone_file("clone_unsnap", _path(pathname, "pathname"))


def declone(pathname: str, blocks: int = -1, offset: int = 0,
            ancestor_limit: int = GPFS_CLONE_ALL) -> int:
    """Copy into the clone ``pathname`` up to ``blocks`` (-1: all) of the blocks it shares
    with its parents, from byte ``offset`` on. Returns the offset to resume from, or -1
    when no shared block is left."""
    return backend.current().clone_file(
        "declone", _path(pathname, "pathname"), _ancestor_limit(ancestor_limit),
        _int64(blocks, "blocks"), _int64(offset, "offset"))


def _path(value: object, name: str) -> str | bytes:
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a path, not {type(value).__name__}")
    return os.fspath(value)


def _int64(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value not in _INT64:
        raise ValueError(f"{name} {value} does not fit in 64 bits")
    return value


def _ancestor_limit(value: object) -> int:
    limit = _int64(value, "ancestor_limit")
    if limit not in (GPFS_CLONE_ALL, GPFS_CLONE_PARENT_ONLY):
        raise ValueError("ancestor_limit must be GPFS_CLONE_ALL or GPFS_CLONE_PARENT_ONLY, "
                         f"not {limit}")
    return limit
