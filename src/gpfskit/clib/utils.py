"""Helpers over the C library calls: walks and listings that know GPFS, inode iteration,
names by path.

``walk``, ``scandir`` and ``listdir`` list in C (see ``gpfskit.clib.listing``), do not show
``.snapshots`` where the file system hides it, and never follow symbolic links unless told
to. Paths outside a GPFS file system raise ``OSError`` (EINVAL).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from gpfskit.clib import backend, fssnap, inode, listing
from gpfskit.clib.types import iattr, stat_result

__all__ = ["GpfsDirEntry", "get_fsname_by_path", "get_path_in_snapshot",
           "get_snapname_by_path", "getfilesetid", "inode_iterator", "listdir", "scandir",
           "walk"]


class GpfsDirEntry:
    """One entry of ``scandir``: ``name``, ``path``, ``inode()``, ``is_dir()``, ``stat()``."""

    __slots__ = ("_kind", "_stat", "name", "path")

    def __init__(self, directory: str, name: str, kind: int, fields: stat_result) -> None:
        self.name = name
        self.path = os.path.join(directory, name)
        self._kind = kind
        self._stat = fields

    def inode(self) -> int:
        return self._stat[1]

    def is_dir(self) -> bool:
        """True for a directory (a symbolic link is not one)."""
        return self._kind == listing.KIND_DIR

    def is_file(self) -> bool:
        return self._kind == listing.KIND_FILE

    def is_symlink(self) -> bool:
        return self._kind == listing.KIND_LINK

    def stat(self) -> stat_result:
        """The entry's attributes as listed (the link itself for a symbolic link)."""
        return self._stat

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<GpfsDirEntry {self.name!r}>"


def _directory(path: str, call: str) -> str:
    """``path`` checked to lie in a GPFS file system."""
    b = backend.current()
    b.locate(path, call)
    return os.fspath(path)


def _hidden(top: str) -> Callable[[str], tuple[str, ...]]:
    return backend.current().hider(top)


def scandir(path: str, snapName: str | None = None) -> Iterator[GpfsDirEntry]:
    """The entries of directory ``path`` (of its copy in snapshot ``snapName`` if given)."""
    directory = _directory(path, "scandir")
    if snapName is not None:
        directory = get_path_in_snapshot(directory, snapName)
    found = listing.list_dir(directory, _hidden(directory)(directory))
    listing.remember(found)
    for name, kind, fields in zip(found.names, found.kinds, found.stats):
        yield GpfsDirEntry(directory, name, kind, fields)


def listdir(path: str) -> list[str]:
    """Entry names of ``path``, as ``os.listdir`` (follows a symlinked ``path``; any order)."""
    directory = os.path.realpath(_directory(path, "listdir"))
    found = listing.list_dir(directory, _hidden(directory)(directory))
    return found.names


def walk(top: str, topdown: bool = True, onerror: Callable[[OSError], None] | None = None,
         followlinks: bool = False) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` for GPFS: yields ``(root, dirs, files)``; prune ``dirs`` when topdown."""
    top = _directory(top, "walk")
    return listing.walk(top, topdown, onerror, followlinks, _hidden(top))


def inode_iterator(path: str, snapName: str | None = None,
                   fsetName: str | None = None) -> Iterator[iattr]:
    """Every inode of the file system holding ``path`` (or of a snapshot or fileset of it),
    in inode order: ``open_inodescan`` + ``next_inode`` with the handles freed at the end.
    Needs root on a real cluster."""
    fs = get_fsname_by_path(path)
    handle = fssnap.get_fssnaphandle_by_name(fs, snapName, fsetName)
    b = backend.of(handle)
    try:
        scan = inode.open_inodescan(handle)
        try:
            rows = getattr(b, "rows", None)
            if rows is not None:
                yield from rows(scan)
            else:
                yield from iter(lambda: inode.next_inode(scan), None)
        finally:
            inode.close_inodescan(scan)
    finally:
        fssnap.free_fssnaphandle(handle)


def _by_path(path: str, ask: Callable[[fssnap.fssnap_handle], str]) -> str:
    handle = fssnap.get_fssnaphandle_by_path(path)
    try:
        return ask(handle)
    finally:
        fssnap.free_fssnaphandle(handle)


def get_fsname_by_path(path: str) -> str:
    """The file system holding ``path``: '/mmfs1/data' gives 'mmfs1'."""
    return _by_path(path, fssnap.get_fsname_from_fssnaphandle)


def get_snapname_by_path(path: str) -> str:
    """The snapshot ``path`` is in, '' for the live file system."""
    return _by_path(path, fssnap.get_snapname_from_fssnaphandle)


def get_path_in_snapshot(path: str, snap: str, fileset: str | None = None) -> str:
    """Where ``path`` is in snapshot ``snap`` (of ``fileset`` for a fileset snapshot), e.g.
    /mmfs1/.snapshots/snap/data."""
    return backend.current().snapshot_path(path, snap, fileset)


def getfilesetid(path: str, filesetName: str) -> int:
    """The id of fileset ``filesetName`` in the file system holding ``path``."""
    return backend.current().fileset_id(path, filesetName)
