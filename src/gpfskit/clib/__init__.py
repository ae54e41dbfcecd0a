"""The C library API: libgpfs for scripts (inode scans, snapshot handles, walks, stat, quotas).

Modules ``fssnap``, ``inode``, ``ifile``, ``utils``, ``stat``, ``file``, ``quota`` and
``clone`` keep the names, arguments and results of the original (``arcapix.fs.gpfs.clib``
re-exports them).
On a real cluster they bind ``libgpfs.so`` through ctypes, loaded on first use; on the
emulated cluster they answer from its files and state (``gpfskit.clib.emulated``). Errors are
``OSError`` with libgpfs's errno. See docs/clib.md.
"""

from gpfskit.clib.file import get_fileset_name, get_storage_pool

__all__ = ["get_fileset_name", "get_storage_pool"]
