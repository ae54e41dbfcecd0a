"""Per-file GPFS attributes, kept as real extended attributes on the emulated files.

A real GPFS file carries a storage pool, replication factors and the immutable / appendOnly
flags in its inode. The emulator keeps them on the real file, so they travel with it through
renames, mounts and fileset links:

``user.gpfskit.pool``                  storage pool (set by ``mmchattr -P``, later by migration)
``user.gpfskit.metadata-replicas``     metadata replication factor (``mmchattr -m``)
``user.gpfskit.data-replicas``         data replication factor (``mmchattr -r``)
``user.gpfskit.max-metadata-replicas`` this file's maximum metadata replicas (``mmchattr -M``)
``user.gpfskit.max-data-replicas``     this file's maximum data replicas (``mmchattr -R``)
``user.gpfskit.immutable``             ``yes`` when immutable (``mmchattr -i yes``)
``user.gpfskit.appendonly``            ``yes`` when append-only (``mmchattr -a yes``)

A file without a recorded pool lives in the pool that placement chooses for it
(``placement_pool``). Running as root, immutable / append-only are also set as the Linux
inode flags (``FS_IOC_SETFLAGS``), so the kernel enforces them like GPFS does; where that is not
possible (not root, a file system without the flags) the recorded attribute alone stands.
While a Linux flag is set the kernel refuses extended attribute changes too, so the writers
here lift the flags for the moment of the change.

Names under ``user.gpfskit.`` are internal: ``user_xattrs`` hides them and ``mmchattr
--set-attr`` refuses them.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "user.gpfskit."
POOL = PREFIX + "pool"
METADATA_REPLICAS = PREFIX + "metadata-replicas"
DATA_REPLICAS = PREFIX + "data-replicas"
MAX_METADATA_REPLICAS = PREFIX + "max-metadata-replicas"
MAX_DATA_REPLICAS = PREFIX + "max-data-replicas"
IMMUTABLE = PREFIX + "immutable"
APPEND_ONLY = PREFIX + "appendonly"
RECORDED = (POOL, METADATA_REPLICAS, DATA_REPLICAS, MAX_METADATA_REPLICAS, MAX_DATA_REPLICAS,
            IMMUTABLE, APPEND_ONLY)

# Linux inode flags (linux/fs.h).
_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20
_GUARD_FLAGS = FS_IMMUTABLE_FL | FS_APPEND_FL
_IGNORED_ERRNOS = {errno.EPERM, errno.ENOTTY, errno.EOPNOTSUPP, errno.EINVAL, errno.EACCES,
                   errno.ENOSYS}


# Raw extended attributes -------------------------------------------------------------------

def _get(path: str | os.PathLike[str], name: str) -> str | None:
    try:
        return os.getxattr(path, name, follow_symlinks=False).decode("utf-8", "replace")
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.EOPNOTSUPP, errno.EPERM):
            return None
        raise


def _set(path: str | os.PathLike[str], name: str, value: str | None) -> None:
    """Set (or with ``None`` remove) one attribute, lifting the Linux flags if needed."""
    with writable(path):
        if value is None:
            try:
                os.removexattr(path, name, follow_symlinks=False)
            except OSError as exc:
                if exc.errno != errno.ENODATA:
                    raise
        else:
            os.setxattr(path, name, value.encode(), follow_symlinks=False)


# Linux inode flags --------------------------------------------------------------------------

def linux_flags(path: str | os.PathLike[str]) -> int:
    """The file's Linux inode flags, 0 where they cannot be read (or for symlinks)."""
    if os.path.islink(path):
        return 0
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return 0
    try:
        return struct.unpack("i", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("i", 0)))[0]
    except OSError:
        return 0
    finally:
        os.close(fd)


def _set_linux_flags(path: str | os.PathLike[str], flags: int) -> bool:
    """Best effort; True when the flags were written."""
    if os.geteuid() != 0 or os.path.islink(path):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("i", flags))
        return True
    except OSError as exc:
        if exc.errno in _IGNORED_ERRNOS:
            return False
        raise
    finally:
        os.close(fd)


def _apply_linux_flag(path: str | os.PathLike[str], flag: int, on: bool) -> None:
    current = linux_flags(path)
    wanted = current | flag if on else current & ~flag
    if wanted != current:
        _set_linux_flags(path, wanted)


@contextmanager
def writable(path: str | os.PathLike[str]) -> Iterator[None]:
    """Lift the immutable / append-only Linux flags for the duration of a change."""
    flags = linux_flags(path)
    lifted = bool(flags & _GUARD_FLAGS) and _set_linux_flags(path, flags & ~_GUARD_FLAGS)
    try:
        yield
    finally:
        if lifted:
            _set_linux_flags(path, flags)


def clear_flags(tree: str | os.PathLike[str]) -> None:
    """Drop the immutable / append-only Linux flags of every file under ``tree``.

    For removing a tree of emulated files (fileset deletion, test clean-up); the recorded
    attributes stay.
    """
    tree = os.fspath(tree)
    if not os.path.lexists(tree):
        return
    paths = [tree]
    if os.path.isdir(tree) and not os.path.islink(tree):
        for top, dirs, files in os.walk(tree):
            paths.extend(os.path.join(top, n) for n in dirs + files)
    for path in paths:
        flags = linux_flags(path)
        if flags & _GUARD_FLAGS:
            _set_linux_flags(path, flags & ~_GUARD_FLAGS)


# The GPFS attributes -----------------------------------------------------------------------

def recorded_pool(path: str | os.PathLike[str]) -> str | None:
    """The pool recorded on the file, or None: the file is where placement puts it."""
    return _get(path, POOL) or None


def set_pool(path: str | os.PathLike[str], pool: str | None) -> None:
    _set(path, POOL, pool)


def replication(path: str | os.PathLike[str]) -> tuple[int | None, int | None]:
    """Recorded (metadata, data) replication factors; None = the file system default."""
    return _counts(path, METADATA_REPLICAS, DATA_REPLICAS)


def max_replication(path: str | os.PathLike[str]) -> tuple[int | None, int | None]:
    """Recorded (metadata, data) maximum replicas; None = the file system maximum."""
    return _counts(path, MAX_METADATA_REPLICAS, MAX_DATA_REPLICAS)


def _counts(path: str | os.PathLike[str], *names: str) -> tuple[int | None, ...]:
    texts = [_get(path, name) for name in names]
    return tuple(int(t) if t and t.isdigit() else None for t in texts)


def set_replication(path: str | os.PathLike[str], *, metadata: int | None = None,
                    data: int | None = None, max_metadata: int | None = None,
                    max_data: int | None = None) -> None:
    for name, value in ((METADATA_REPLICAS, metadata), (DATA_REPLICAS, data),
                        (MAX_METADATA_REPLICAS, max_metadata), (MAX_DATA_REPLICAS, max_data)):
        if value is not None:
            _set(path, name, str(value))


def immutable(path: str | os.PathLike[str]) -> bool:
    return _get(path, IMMUTABLE) == "yes" or bool(linux_flags(path) & FS_IMMUTABLE_FL)


def append_only(path: str | os.PathLike[str]) -> bool:
    return _get(path, APPEND_ONLY) == "yes" or bool(linux_flags(path) & FS_APPEND_FL)


def set_immutable(path: str | os.PathLike[str], on: bool) -> None:
    _set_guard(path, IMMUTABLE, FS_IMMUTABLE_FL, on)


def set_append_only(path: str | os.PathLike[str], on: bool) -> None:
    _set_guard(path, APPEND_ONLY, FS_APPEND_FL, on)


def _set_guard(path: str | os.PathLike[str], name: str, flag: int, on: bool) -> None:
    if on:
        _set(path, name, "yes")          # the attribute first: the flag then forbids changes
        _apply_linux_flag(path, flag, True)
    else:
        _apply_linux_flag(path, flag, False)
        _set(path, name, None)


def user_xattrs(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """The file's own extended attributes (the internal ``user.gpfskit.*`` ones hidden)."""
    result: dict[str, bytes] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return result
    for name in sorted(names):
        if name.startswith(PREFIX):
            continue
        try:
            result[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
    return result


def set_user_xattr(path: str | os.PathLike[str], name: str, value: bytes) -> None:
    os.setxattr(path, name, value, follow_symlinks=False)


def delete_user_xattr(path: str | os.PathLike[str], name: str) -> None:
    os.removexattr(path, name, follow_symlinks=False)


# One mmchattr change ---------------------------------------------------------------------

def change(path: str | os.PathLike[str], spec: dict[str, object]) -> None:
    """Apply one ``mmchattr`` change, given as plain data (so a journal can record it):
    ``immutable`` / ``append`` (True, False or None: unchanged), ``pool``, ``replicas``
    (option letter -> count: ``m``, ``r``, ``M``, ``R``), ``delete`` (names) and ``set``
    (name -> value in hex). Flags are lifted before and raised after the other changes."""
    immutable, append = spec.get("immutable"), spec.get("append")
    if immutable is False:
        set_immutable(path, False)
    if append is False:
        set_append_only(path, False)
    if spec.get("pool") is not None:
        set_pool(path, str(spec["pool"]))
    replicas = dict(spec.get("replicas") or {})  # type: ignore[call-overload]
    if replicas:
        set_replication(path, metadata=replicas.get("m"), data=replicas.get("r"),
                        max_metadata=replicas.get("M"), max_data=replicas.get("R"))
    for name in spec.get("delete") or ():  # type: ignore[attr-defined]
        delete_user_xattr(path, name)
    for name, value in dict(spec.get("set") or {}).items():  # type: ignore[call-overload]
        set_user_xattr(path, name, bytes.fromhex(value))
    if append:
        set_append_only(path, True)
    if immutable:
        set_immutable(path, True)


def raise_recorded_flags(tree: str | os.PathLike[str]) -> None:
    """Set the Linux immutable / append-only flag again wherever the attribute records it
    (a change that lifted it for a moment was interrupted)."""
    if os.geteuid() != 0:
        return
    for top, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".snapshots"]
        for name in files:
            path = os.path.join(top, name)
            if immutable(path):
                _apply_linux_flag(path, FS_IMMUTABLE_FL, True)
            if append_only(path):
                _apply_linux_flag(path, FS_APPEND_FL, True)


# Saving and restoring (undoing a partly applied change) ----------------------------------

def save(path: str | os.PathLike[str]) -> tuple[dict[str, bytes | None], int]:
    """Everything ``mmchattr`` may change on ``path``: all extended attributes and flags."""
    values: dict[str, bytes | None] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        names = []
    for name in names:
        if name.startswith("user."):
            try:
                values[name] = os.getxattr(path, name, follow_symlinks=False)
            except OSError:
                continue
    return values, linux_flags(path)


def restore(path: str | os.PathLike[str], saved: tuple[dict[str, bytes | None], int]) -> None:
    values, flags = saved
    current = linux_flags(path)
    if current & _GUARD_FLAGS:
        _set_linux_flags(path, current & ~_GUARD_FLAGS)
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        names = []
    for name in names:
        if name.startswith("user.") and name not in values:
            try:
                os.removexattr(path, name, follow_symlinks=False)
            except OSError:
                pass
    for name, value in values.items():
        if value is not None:
            try:
                os.setxattr(path, name, value, follow_symlinks=False)
            except OSError:
                pass
    if flags != linux_flags(path):
        _set_linux_flags(path, flags)


# Placement --------------------------------------------------------------------------------

def placement_pool(db: sqlite3.Connection, fs_name: str, path: str | os.PathLike[str] | None
                   ) -> str:
    """The pool placement chooses for ``path`` (the path users see) in ``fs_name``.

    The installed SET POOL rules, evaluated as at file creation (see ``placement``); with no
    such rule a file system behaves as if ``SET POOL '<first non-system data pool>'`` were
    installed, or ``system`` without one.
    """
    from gpfskit.emulator import placement  # placement reads the attributes kept here

    return placement.placement_pool(db, fs_name, path)


def pool_of(db: sqlite3.Connection, fs_name: str, path: str | os.PathLike[str],
            visible_path: str | os.PathLike[str] | None = None) -> str:
    """The file's pool: the recorded one, else what placement chooses.

    ``path`` is where the bytes are; ``visible_path`` the name users see (default ``path``).
    Directories and other non-data objects live in ``system`` (they are metadata).
    """
    if os.path.isdir(path) and not os.path.islink(path):
        return "system"
    return recorded_pool(path) or placement_pool(db, fs_name, visible_path or path)


# Creation time ----------------------------------------------------------------------------

_AT_FDCWD = -100
_AT_SYMLINK_NOFOLLOW = 0x100
_STATX_BTIME = 0x800
_libc = None


def creation_time(path: str | os.PathLike[str]) -> float:
    """The file's birth time where the kernel reports it (statx), else its oldest time."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(256)
        rc = _libc.statx(_AT_FDCWD, os.fsencode(Path(path)), _AT_SYMLINK_NOFOLLOW,
                         _STATX_BTIME, buf)
        if rc == 0:
            mask = struct.unpack_from("I", buf.raw, 0)[0]
            if mask & _STATX_BTIME:
                sec, nsec = struct.unpack_from("qI", buf.raw, 80)
                return sec + nsec / 1e9
    except (AttributeError, OSError):
        pass
    st = os.lstat(path)
    return min(st.st_ctime, st.st_mtime)
