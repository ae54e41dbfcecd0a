"""Inode scans (gpfs_iscan_t): every inode of a file system or snapshot, in inode order.

Seeking back costs more than scanning forward: sort inode numbers before ``stat_inode``.
On a real cluster opening a scan needs root (EPERM otherwise); the emulated cluster lists
what the caller may read.
"""

from __future__ import annotations

from gpfskit.clib import backend, flags
from gpfskit.clib.types import fssnap_handle, fssnap_id, iattr, inodescan

__all__ = ["close_inodescan", "get_flags_strings", "get_pcacheflags_strings",
           "get_winflags_strings", "get_xperm_strings", "iattr", "igetfilesetname",
           "igetstoragepool", "inodescan", "next_inode", "open_inodescan", "seek_inode",
           "stat_inode"]


def open_inodescan(fssnap: fssnap_handle, prev_fssnapid: fssnap_id | None = None,
                   maxIno: int | None = None) -> inodescan:
    """Open a scan of the handle's file system, snapshot or fileset. With ``prev_fssnapid``
    only inodes changed since that snapshot; ``maxIno`` stops at that inode number. Needs
    root on a real cluster."""
    return backend.of(fssnap).open_iscan(fssnap, prev_fssnapid, maxIno)


def next_inode(iscan: inodescan, termIno: int = 0) -> iattr | None:
    """The next inode's attributes, None at the end (or at ``termIno`` when not 0)."""
    try:                      # an attribute read, not getattr(): a third of the call
        step = iscan._next
    except AttributeError:
        step = None
    if step is None:          # no step of its own (or not a scan: the backend says so)
        return backend.of(iscan).next_inode(iscan, termIno)
    return step(termIno)


def seek_inode(iscan: inodescan, ino: int) -> None:
    """Make ``ino`` (or the next inode above it) the one ``next_inode`` returns."""
    backend.of(iscan).seek_inode(iscan, ino)


def stat_inode(iscan: inodescan, ino: int) -> iattr | None:
    """One inode's attributes, None when there is no such inode."""
    return backend.of(iscan).stat_inode(iscan, ino)


def close_inodescan(iscan: inodescan) -> None:
    backend.of(iscan).close_iscan(iscan)


def igetfilesetname(fsetid: int, iscan: inodescan) -> str:
    """The name of the fileset an ``ia_filesetid`` names."""
    return backend.of(iscan).fileset_name(fsetid, iscan)


def igetstoragepool(poolid: int, iscan: inodescan) -> str:
    """The name of the storage pool an ``ia_datapoolid`` names."""
    return backend.of(iscan).pool_name(poolid, iscan)


def get_flags_strings(value: int) -> list[str]:
    """``ia_flags`` decoded (GPFS_IAFLAG_* names)."""
    return flags.names_of(value, flags.IAFLAGS)


def get_winflags_strings(value: int) -> list[str]:
    """``ia_winflags`` decoded (GPFS_IWINATTR_* names)."""
    return flags.names_of(value, flags.WINFLAGS)


def get_xperm_strings(value: int) -> list[str]:
    """``ia_xperm`` decoded (GPFS_IAXPERM_* names)."""
    return flags.names_of(value, flags.XPERM)


def get_pcacheflags_strings(value: int) -> list[str]:
    """``ia_pcacheflags`` decoded (GPFS_ICAFLAG_* names)."""
    return flags.names_of(value, flags.PCACHEFLAGS)
