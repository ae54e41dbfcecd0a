"""stat without the caveats of os.stat: exact GPFS times, stat-lite, statfs.

Every result field is an int (times in whole seconds). Calls on a path outside a GPFS file
system raise ``OSError`` (EINVAL).

Stat-lite: ``statlite``/``lstatlite`` guarantee exact values only for the fields named in
``litemask`` (``SL_SIZE | SL_MTIME``, ...); the others may be cached. Here they answer,
without a system call, from the attributes the last ``utils.walk``/``scandir``/``listdir``
step read for the entries of the directory it handed out (so ``walk`` + ``lstatlite`` on
every entry costs one listing per directory); any other path, or any bit in ``litemask``,
reads the inode.
"""

from __future__ import annotations

import os

from gpfskit.clib import backend, listing
from gpfskit.clib.types import stat_result, statfs_result

__all__ = ["SL_ATIME", "SL_BLKSIZE", "SL_BLOCKS", "SL_CTIME", "SL_EXACT", "SL_MTIME", "SL_NONE",
           "SL_SIZE", "fstat", "lstatlite", "stat", "stat_result", "statfs", "statfs_result",
           "statlite"]

# GPFS_SLITE_* bits (gpfs.h).
SL_NONE = 0
SL_SIZE = 0x01
SL_BLKSIZE = 0x02
SL_BLOCKS = 0x04
SL_ATIME = 0x08
SL_MTIME = 0x10
SL_CTIME = 0x20
SL_EXACT = SL_SIZE | SL_BLKSIZE | SL_BLOCKS | SL_ATIME | SL_MTIME | SL_CTIME


def stat(pathname: str) -> stat_result:
    """Exact attributes (follows symbolic links); slower than os.stat on a real cluster."""
    return backend.current().stat(pathname, True, "stat")


def fstat(pathname: str) -> stat_result:
    """Like ``stat`` (it takes a path, not an fd, as the original does)."""
    return backend.current().stat(pathname, True, "fstat")


def _lite(pathname: str, litemask: int, follow: bool, call: str) -> stat_result:
    if isinstance(litemask, bool) or not isinstance(litemask, int) or litemask & ~SL_EXACT:
        raise OSError(22, f"{call}: litemask must be SL_* bits, not {litemask!r}")
    if litemask == SL_NONE and isinstance(pathname, str):
        cached = listing.cached_stat(pathname)
        if cached is not None and (not follow or not _is_link(cached)):
            return cached
    return backend.current().stat(pathname, follow, call, litemask)


def _is_link(st: stat_result) -> bool:
    return (st.st_mode & 0o170000) == 0o120000


def statlite(pathname: str, litemask: int = SL_NONE) -> stat_result:
    """Stat-lite, following links: only the ``litemask`` fields are sure to be exact."""
    return _lite(pathname, litemask, True, "statlite")


def lstatlite(pathname: str, litemask: int = SL_NONE) -> stat_result:
    """Stat-lite of the link itself: only the ``litemask`` fields are sure to be exact."""
    if litemask == SL_NONE and type(pathname) is str:  # the fast path of walk + lstatlite
        cached = listing.recent.get(pathname)
        if cached is not None:
            return cached
    return _lite(pathname, litemask, False, "lstatlite")


def statfs(pathname: str) -> statfs_result:
    """File system figures for the file system holding ``pathname`` (``f_bfree`` can lag;
    ``mmdf`` is exact)."""
    return backend.current().statfs(os.fspath(pathname))
