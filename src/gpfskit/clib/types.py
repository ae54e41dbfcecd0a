"""The objects the C library API hands out: handles, scans, open inodes and result records.

Handles are opaque: scripts get them from the ``fssnap``/``inode``/``ifile`` calls and pass
them back. Each remembers the backend that made it and whether it was freed or closed, so a
call on a freed handle or a closed scan is a clear ``OSError`` (EBADF/EINVAL), never a crash.
"""

from __future__ import annotations

import errno
import os
from typing import Any, NamedTuple

try:
    from gpfskit.emulator.scan._walk import Field, Row  # type: ignore[import]
except ImportError:  # the extension is not built
    from gpfskit.emulator.scan._pywalk import Field, Row


def os_error(code: int, what: str, filename: str | None = None) -> OSError:
    """The OSError libgpfs would give: ``errno`` set, the usual message."""
    if filename is None:
        return OSError(code, f"{what}: {os.strerror(code)}")
    return OSError(code, f"{what}: {os.strerror(code)}", filename)


class _Handle:
    """Base of the opaque objects: a backend payload and an open/closed state."""

    _kind = "handle"
    _release_verb = "freed"

    def __init__(self, payload: Any, owner: Any = None) -> None:
        self._payload = payload
        self._owner = owner      # the backend that made it: calls on it go there
        self._open = True

    def _live(self, call: str) -> Any:
        """The payload, or EBADF when the object was freed/closed."""
        if not isinstance(self, _Handle) or not self._open:
            raise os_error(errno.EBADF, f"{call}: {self._kind} was {self._release_verb}")
        return self._payload

    def _release(self) -> Any:
        payload, self._open = self._payload, False
        return payload

    def __repr__(self) -> str:
        state = "" if self._open else f" ({self._release_verb})"
        return f"<{type(self).__name__}{state}>"


class fssnap_handle(_Handle):
    """Names a file system or one of its snapshots (gpfs_fssnap_handle_t)."""

    _kind = "fssnap_handle"


class fssnap_id:
    """Identifies a file system snapshot (gpfs_fssnap_id_t); compare with ``cmp_fssnapid``."""

    __slots__ = ("fs", "raw", "snap_id")

    def __init__(self, fs: str, snap_id: int, raw: bytes = b"") -> None:
        self.fs, self.snap_id, self.raw = fs, snap_id, raw

    def __repr__(self) -> str:
        return f"<fssnap_id {self.fs}:{self.snap_id}>"


class inodescan(_Handle):
    """An open inode scan (gpfs_iscan_t)."""

    _kind = "inodescan"
    _release_verb = "closed"

    #: An open scan's own step, ``_next(termIno)``, where its backend gives it one (the
    #: emulated one does: one C call); ``inode.next_inode`` then calls it directly, else
    #: the backend. Closing the scan takes it away.
    _next: Any = None

    def _release(self) -> Any:
        self.__dict__.pop("_next", None)
        return super()._release()


class ifile(_Handle):
    """A file or directory opened by inode number (gpfs_ifile_t)."""

    _kind = "ifile"
    _release_verb = "closed"


class iattr(Row):
    """One inode's attributes (gpfs_iattr64_t): times are float seconds, the rest int.

    ``ia_blocks`` counts 512-byte units; ``ia_flags``, ``ia_winflags``, ``ia_xperm`` and
    ``ia_pcacheflags`` decode with ``inode.get_*_strings``.

    Like the original's iattr, which reads its gpfs_iattr64_t, a scan's record makes a
    field's value when the field is read, so a scan that reads two fields of each inode
    does not pay for twenty-seven. It is made from its 27 values in field order; it
    indexes, unpacks, compares and hashes as the tuple of them, and has ``_fields``,
    ``_asdict()`` and ``_replace()`` as a named tuple does.
    """

    __slots__ = ()

    ia_mode: int
    ia_uid: int
    ia_gid: int
    ia_inode: int
    ia_gen: int
    ia_nlink: int
    ia_size: int
    ia_blocks: int
    ia_atime: float
    ia_mtime: float
    ia_ctime: float
    ia_createtime: float
    ia_winflags: int
    ia_flags: int
    ia_repl_data: int
    ia_repl_data_max: int
    ia_repl_meta: int
    ia_repl_meta_max: int
    ia_blocksize: int
    ia_xperm: int
    ia_dev: int
    ia_rdev: int
    ia_pcacheflags: int
    ia_modsnapid: int
    ia_filesetid: int
    ia_datapoolid: int
    ia_inode_space_mask: int

    def __repr__(self) -> str:
        return "iattr(" + ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self,
                                                                   strict=True)) + ")"

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def _replace(self, **changes: Any) -> iattr:
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise ValueError(f"no such iattr field: {', '.join(sorted(unknown))}")
        return iattr(*(changes.get(f, v) for f, v in zip(self._fields, self, strict=True)))


iattr._fields = tuple(iattr.__annotations__)
for _k, _name in enumerate(iattr._fields):
    setattr(iattr, _name, Field(_k, _name))
IATTR_FIELDS: tuple[str, ...] = iattr._fields


class direntx(NamedTuple):
    """One directory entry read by ``ifile.ireaddir`` (gpfs_direntx64_t)."""

    d_type: int
    d_ino: int
    d_gen: int
    d_flags: int
    d_name: str


class stat_result(NamedTuple):
    """What ``stat.stat`` and friends return: every field an int (seconds for the times)."""

    st_mode: int
    st_ino: int
    st_dev: int
    st_nlink: int
    st_uid: int
    st_gid: int
    st_size: int
    st_atime: int
    st_mtime: int
    st_ctime: int
    st_rdev: int
    st_blksize: int
    st_blocks: int


class statfs_result(NamedTuple):
    """What ``stat.statfs`` returns. ``f_bfree`` can lag behind; ``mmdf`` is exact."""

    f_type: int
    f_bsize: int
    f_blocks: int
    f_bfree: int
    f_bavail: int
    f_files: int
    f_ffree: int
    f_namelen: int
