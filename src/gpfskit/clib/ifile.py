"""Files opened by inode number (gpfs_ifile_t): read files, list directories.

On a real cluster ``iopen`` needs root (EPERM otherwise); the emulated cluster follows the
caller's file permissions.
"""

from __future__ import annotations

from gpfskit.clib import backend
from gpfskit.clib import flags as flagbits
from gpfskit.clib.types import direntx, fssnap_handle, ifile

__all__ = ["direntx", "get_flags_strings", "get_type_string", "iclose", "ifile", "iopen",
           "iread", "ireaddir"]


def iopen(fssnap: fssnap_handle, ino: int, flags: int = 0) -> ifile:
    """Open inode ``ino`` of the handle's file system or snapshot (flags 0: read-only)."""
    return backend.of(fssnap).iopen(fssnap, ino, flags)


def iread(ifile: ifile, buffersize: int, offset: int = 0) -> bytes:
    """Up to ``buffersize`` bytes from ``offset`` (regular files only)."""
    return backend.of(ifile).iread(ifile, buffersize, offset)


def ireaddir(dirp: ifile) -> direntx | None:
    """The next entry of an opened directory, None at the end:
    ``for d in iter(lambda: ireaddir(f), None)``."""
    return backend.of(dirp).ireaddir(dirp)


def iclose(ifile: ifile) -> None:
    backend.of(ifile).iclose(ifile)


def get_type_string(value: int) -> str:
    """``d_type`` as REG, DIR, LNK, DEL, FIFO, CHR, BLK, SOCK or OTHER."""
    return flagbits.type_name(value)


def get_flags_strings(value: int) -> list[str]:
    """``d_flags`` decoded: JUNCTION, IJUNCTION, ORPHAN, CLONE, or ['NONE']."""
    return flagbits.names_of(value, flagbits.DEFLAGS) or ["NONE"]
