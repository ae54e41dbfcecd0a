"""File system and snapshot handles (gpfs_fssnap_handle_t, gpfs_fssnap_id_t).

A handle names a file system, or one of its snapshots, and is what inode scans and
``ifile.iopen`` take. On a real cluster making a handle needs root (EPERM otherwise); the
emulated cluster follows the caller's file permissions instead.
"""

from __future__ import annotations

from gpfskit.clib import backend
from gpfskit.clib.types import fssnap_handle, fssnap_id

__all__ = ["cmp_fssnapid", "free_fssnaphandle", "fssnap_handle", "fssnap_id",
           "get_fsname_from_fssnaphandle", "get_fssnaphandle_by_fssnapid",
           "get_fssnaphandle_by_name", "get_fssnaphandle_by_path",
           "get_fssnapid_from_fssnaphandle", "get_pathname_from_fssnaphandle",
           "get_snapname_from_fssnaphandle"]


def get_fssnaphandle_by_name(fsName: str, snapName: str | None = None,
                             fsetName: str | None = None) -> fssnap_handle:
    """A handle for file system ``fsName`` (``snapName=None``: the live file system),
    optionally scoped to fileset ``fsetName``. Needs root on a real cluster."""
    return backend.current().fssnap_by_name(fsName, snapName, fsetName)


def get_fssnaphandle_by_path(path: str) -> fssnap_handle:
    """A handle for the file system (or snapshot) holding ``path``. Needs root on a real
    cluster."""
    return backend.current().fssnap_by_path(path)


def get_fssnaphandle_by_fssnapid(fssnapId: fssnap_id) -> fssnap_handle:
    """A handle for the snapshot an ``fssnap_id`` identifies. Needs root on a real cluster."""
    return backend.current().fssnap_by_id(fssnapId)


def get_fssnapid_from_fssnaphandle(fssnapHandle: fssnap_handle) -> fssnap_id:
    return backend.of(fssnapHandle).fssnapid(fssnapHandle)


def get_fsname_from_fssnaphandle(fssnapHandle: fssnap_handle) -> str:
    return backend.of(fssnapHandle).fsname(fssnapHandle)


def get_pathname_from_fssnaphandle(fssnapHandle: fssnap_handle) -> str:
    """The mount point, or the snapshot's directory for a snapshot handle."""
    return backend.of(fssnapHandle).pathname(fssnapHandle)


def get_snapname_from_fssnaphandle(fssnapHandle: fssnap_handle) -> str:
    """The snapshot's name, '' for the live file system."""
    return backend.of(fssnapHandle).snapname(fssnapHandle)


def cmp_fssnapid(fssnapId1: fssnap_id, fssnapId2: fssnap_id) -> int:
    """0 when equal, -1 when the first is older, 1 when it is newer."""
    for ident in (fssnapId1, fssnapId2):
        if not isinstance(ident, fssnap_id):
            raise TypeError(f"cmp_fssnapid: expected fssnap_id, not {type(ident).__name__}")
    return backend.current().cmp(fssnapId1, fssnapId2)


def free_fssnaphandle(fssnapHandle: fssnap_handle) -> None:
    """Free a handle now (garbage collection frees it too; free by hand when making many)."""
    backend.of(fssnapHandle).free(fssnapHandle)
