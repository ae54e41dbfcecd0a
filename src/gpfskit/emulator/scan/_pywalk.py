"""Pure-Python twin of the ``_walk`` C extension: same call, same output.

Used when the extension is not built, and by the tests to cross-check it. Directories are
read with ``os.scandir`` on a directory fd; entries are stat'ed with ``statx`` through ctypes
(one call per entry, relative to the directory fd, written straight into a numpy structured
array, with the GIL released during the call) so that birth times, and therefore
GENERATION and CREATION_TIME, match the C lister exactly. Where libc has no ``statx`` (or the
kernel refuses it) both listers use ``lstat`` and take the birth time from the change time.

Differences that do not show in the output: a directory split across calls is resumed from a
live ``_Resume`` token (the open directory and its iterator) instead of a getdents offset.
"""

from __future__ import annotations

import ctypes
import errno
import operator
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from gpfskit.emulator.scan.walk import (
    KIND_DIR,
    KIND_FILE,
    KIND_LINK,
    KIND_OTHER,
    MAX_XATTRS,
    NO_PATHS,
    WANT_ALL_KINDS,
    WANT_MISC,
    WANT_MODE,
    WANT_NAMES,
)

FLAG_IMMUTABLE, FLAG_APPEND, FLAG_COMPRESSED, FLAG_ENCRYPTED = 1, 2, 4, 8

_AT_FDCWD = -100
_AT_SYMLINK_NOFOLLOW = 0x100
_AT_NO_AUTOMOUNT = 0x800
_STATX_CTIME = 0x80
_STATX_BASIC_STATS = 0x7FF
_STATX_BTIME = 0x800
_STATX_ATTR_COMPRESSED = 0x4
_STATX_ATTR_IMMUTABLE = 0x10
_STATX_ATTR_APPEND = 0x20
_STATX_ATTR_ENCRYPTED = 0x800
_BLOB_LIMIT = 2**31 - 1 - 65536

#: ``struct statx`` (the same on every Linux architecture).
STATX_DTYPE = np.dtype(
    {
        "names": [
            "mask", "blksize", "attributes", "nlink", "uid", "gid", "mode", "ino", "size",
            "blocks", "atime_s", "atime_ns", "btime_s", "btime_ns", "ctime_s", "ctime_ns",
            "mtime_s", "mtime_ns", "rdev_major", "rdev_minor", "dev_major", "dev_minor",
        ],
        "formats": [
            "<u4", "<u4", "<u8", "<u4", "<u4", "<u4", "<u2", "<u8", "<u8",
            "<u8", "<i8", "<u4", "<i8", "<u4", "<i8", "<u4",
            "<i8", "<u4", "<u4", "<u4", "<u4", "<u4",
        ],
        "offsets": [
            0, 4, 8, 16, 20, 24, 28, 32, 40,
            48, 64, 72, 80, 88, 96, 104,
            112, 120, 128, 132, 136, 140,
        ],
        "itemsize": 256,
    }
)
_MODE_INDEX = 28 // 2  # stx_mode as the 14th uint16 of a record


def _load_statx() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.statx
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    fn.restype = ctypes.c_int
    return fn


_statx = _load_statx()
_use_statx = _statx is not None
_O_NOATIME = getattr(os, "O_NOATIME", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _Resume:
    """Where a directory split across calls goes on: its open fd and scandir iterator."""

    __slots__ = ("fd", "it")

    def __init__(self, fd: int, it: Any):
        self.fd = fd
        self.it = it

    def close(self) -> None:
        if self.fd >= 0:
            self.it.close()
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


class _Rows:
    """Row storage: statx records in a structured array plus paths, names, xattrs."""

    def __init__(self, nx: int):
        self.n = 0
        self.cap = 0
        self.sx = np.zeros(0, STATX_DTYPE)
        self.addr = 0
        self.modes: memoryview | None = None
        self.dir: list[int] = []
        self.kind: list[int] = []
        self.paths = bytearray()  # the visible paths, end to end
        self.path_ends: list[int] = []
        self.names = bytearray()
        self.name_ends: list[int] = []
        self.xattrs: list[list[bytes | None]] = [[] for _ in range(nx)]
        self._grow()

    def _grow(self) -> None:
        cap = max(1024, self.cap * 2)
        sx = np.zeros(cap, STATX_DTYPE)
        sx[: self.n] = self.sx[: self.n]
        self.sx, self.cap = sx, cap
        self.addr = sx.ctypes.data
        self.modes = memoryview(sx.view(np.uint8)).cast("H")

    def stat(self, dirfd: int, name: bytes) -> int:
        """Stat ``name`` into the next free slot; returns its mode, or -errno."""
        global _use_statx
        if self.n >= self.cap:
            self._grow()
        n = self.n
        if _use_statx:
            rc = _statx(dirfd, name, _AT_SYMLINK_NOFOLLOW | _AT_NO_AUTOMOUNT,
                        _STATX_BASIC_STATS | _STATX_BTIME, self.addr + 256 * n)
            if rc == 0:
                return self.modes[n * 128 + _MODE_INDEX]
            err = ctypes.get_errno()
            if err != errno.ENOSYS:
                return -err
            _use_statx = False
        try:
            if dirfd == _AT_FDCWD:
                st = os.lstat(name)
            else:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        except OSError as exc:
            return -(exc.errno or errno.EIO)
        a_s, a_ns = divmod(st.st_atime_ns, 10**9)
        m_s, m_ns = divmod(st.st_mtime_ns, 10**9)
        c_s, c_ns = divmod(st.st_ctime_ns, 10**9)
        self.sx[n] = (
            _STATX_BASIC_STATS, st.st_blksize, 0, st.st_nlink, st.st_uid, st.st_gid,
            st.st_mode, st.st_ino, st.st_size, st.st_blocks, a_s, a_ns, 0, 0, c_s, c_ns,
            m_s, m_ns, os.major(st.st_rdev), os.minor(st.st_rdev), os.major(st.st_dev),
            os.minor(st.st_dev),
        )
        return st.st_mode

    def columns(self, flags: int) -> dict[str, Any]:
        n = self.n
        sx = self.sx[:n]
        attrs = sx["attributes"]
        attr_flags = (
            np.where(attrs & _STATX_ATTR_IMMUTABLE, FLAG_IMMUTABLE, 0)
            | np.where(attrs & _STATX_ATTR_APPEND, FLAG_APPEND, 0)
            | np.where(attrs & _STATX_ATTR_COMPRESSED, FLAG_COMPRESSED, 0)
            | np.where(attrs & _STATX_ATTR_ENCRYPTED, FLAG_ENCRYPTED, 0)
        ).astype(np.uint8)
        cols: dict[str, Any] = {
            **numeric_columns(sx),
            "dir": np.array(self.dir, np.int32),
            "kind": np.array(self.kind, np.uint8),
            "flags": attr_flags,
            "path_offsets": _ends(self.path_ends, n),
            "name_offsets": _ends(self.name_ends, n),
            "paths": bytes(self.paths),
            "names": bytes(self.names),
            "xattrs": [_xattr_column(values) for values in self.xattrs],
        }
        kind = cols["kind"]
        if flags & WANT_MODE:
            cols["modes"] = mode_strings(sx["mode"])
        else:
            cols["modes"] = b""
        if flags & WANT_MISC:
            codes = (kind.astype(np.int64) * 16 + flags_of(cols["flags"])).tolist()
            cols["misc"] = b"".join([_MISC[c] for c in codes])
            cols["misc_offsets"] = _offsets(_MISC_LEN[codes] if codes else np.zeros(0, np.int32))
        else:
            cols["misc"] = b""
            cols["misc_offsets"] = np.zeros(n + 1, np.int32)
        return cols


NUMERIC_COLUMNS = ("ino", "mode", "nlink", "uid", "gid", "size", "kb", "blksize", "dev", "rdev",
                   "gen", "atime", "mtime", "ctime", "btime")


def numeric_columns(sx: np.ndarray, names: Sequence[str] = NUMERIC_COLUMNS
                    ) -> dict[str, np.ndarray]:
    """The lister's numeric columns ``names`` from statx records: int64, or float64 seconds."""
    i64 = np.int64
    out: dict[str, np.ndarray] = {}
    if {"gen", "btime"} & set(names):
        has_btime = (sx["mask"] & _STATX_BTIME) != 0
        b_s = np.where(has_btime, sx["btime_s"], sx["ctime_s"])
        b_ns = np.where(has_btime, sx["btime_ns"], sx["ctime_ns"])
    for name in names:
        if name in ("ino", "mode", "nlink", "uid", "gid", "size", "blksize"):
            out[name] = sx[name].astype(i64)
        elif name == "kb":
            out[name] = ((sx["blocks"] + np.uint64(1)) // np.uint64(2)).astype(i64)
        elif name in ("dev", "rdev"):
            out[name] = makedev(sx[f"{name}_major"], sx[f"{name}_minor"])
        elif name == "gen":
            out[name] = generation(sx["ino"], b_s, b_ns)
        elif name == "btime":
            out[name] = _seconds(b_s, b_ns)
        else:  # atime mtime ctime
            out[name] = _seconds(sx[f"{name}_s"], sx[f"{name}_ns"])
    return out


_COMPARE = {"=": np.equal, "<>": np.not_equal, "<": np.less, "<=": np.less_equal,
            ">": np.greater, ">=": np.greater_equal}


class _Prefilter:
    """``list_dirs``'s prefilter, tried on one freshly stat'ed record."""

    def __init__(self, spec: Sequence[Sequence[tuple[str, str, float]]]):
        self.conjunctions = [[(column, _COMPARE[op], value) for column, op, value in conj]
                             for conj in spec]
        for conj in self.conjunctions:
            for column, _, _ in conj:
                if column not in NUMERIC_COLUMNS:
                    raise ValueError(f"bad prefilter column {column!r}")
        self.names = sorted({column for conj in self.conjunctions for column, _, _ in conj})

    def passes(self, record: np.ndarray) -> bool:
        values = numeric_columns(record, self.names)
        return any(all(bool(compare(values[column][0], value)) for column, compare, value in conj)
                   for conj in self.conjunctions)


_TYPE_CHARS = np.frombuffer(b"?pc?d?b?-?l?s???", np.uint8)  # by (mode >> 12) & 15
_RWX = np.array([list(b"---"), list(b"--x"), list(b"-w-"), list(b"-wx"),
                 list(b"r--"), list(b"r-x"), list(b"rw-"), list(b"rwx")], np.uint8)
#: MISC_ATTRIBUTES by kind * 16 + flag bits: the kind letter, then X (immutable),
#: a (append-only), c (compressed), e (encrypted).
_MISC = [
    b"FDLO"[kind: kind + 1] + b"".join(letter for letter, bit in
                                     ((b"X", 1), (b"a", 2), (b"c", 4), (b"e", 8)) if bits & bit)
    for kind in range(4) for bits in range(16)
]
_MISC_LEN = np.array([len(m) for m in _MISC], np.int32)


def flags_of(flags: np.ndarray) -> np.ndarray:
    return flags.astype(np.int64) & 15


def mode_strings(mode: np.ndarray) -> bytes:
    """``ls -l`` style mode strings ('-rw-r--r--', 'drwxr-sr-t', ...), 10 bytes each."""
    n = len(mode)
    m = mode.astype(np.int64)
    out = np.empty((n, 10), np.uint8)
    out[:, 0] = _TYPE_CHARS[(m >> 12) & 15]
    out[:, 1:4] = _RWX[(m >> 6) & 7]
    out[:, 4:7] = _RWX[(m >> 3) & 7]
    out[:, 7:10] = _RWX[m & 7]
    for bit, col, lower, upper in ((0o4000, 3, b"s", b"S"), (0o2000, 6, b"s", b"S"),
                                   (0o1000, 9, b"t", b"T")):
        special = (m & bit) != 0
        if special.any():
            execute = out[:, col] == ord("x")
            out[:, col] = np.where(special, np.where(execute, lower[0], upper[0]), out[:, col])
    return out.tobytes()


def _offsets(lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=out[1:])
    return out


def _ends(ends: list[int], n: int) -> np.ndarray:
    out = np.zeros(n + 1, np.int32)
    if ends:
        out[1:] = ends
    return out


def _seconds(sec: np.ndarray, nsec: np.ndarray) -> np.ndarray:
    return sec.astype(np.float64) + nsec.astype(np.float64) * 1e-9


def _xattr_column(values: list[bytes | None]) -> tuple[bytes, np.ndarray, np.ndarray]:
    valid = np.array([v is not None for v in values], np.uint8)
    lens = np.fromiter((len(v) if v is not None else 0 for v in values), np.int32, len(values))
    return b"".join(v for v in values if v is not None), _offsets(lens), valid


def makedev(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """glibc's ``makedev`` on arrays."""
    ma = major.astype(np.uint64)
    mi = minor.astype(np.uint64)
    dev = (
        ((ma & np.uint64(0xFFFFF000)) << np.uint64(32))
        | ((ma & np.uint64(0xFFF)) << np.uint64(8))
        | ((mi & np.uint64(0xFFFFFF00)) << np.uint64(12))
        | (mi & np.uint64(0xFF))
    )
    return dev.view(np.int64)


def _mix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def generation(ino: np.ndarray, birth_s: np.ndarray, birth_ns: np.ndarray) -> np.ndarray:
    """GENERATION: a stable 32-bit value from the inode number and the birth time."""
    with np.errstate(over="ignore"):
        birth = birth_s.astype(np.int64).view(np.uint64) * np.uint64(10**9) + birth_ns.astype(
            np.uint64
        )
        x = _mix64(ino.astype(np.uint64) ^ _mix64(birth))
    return (x & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _kind_of_mode(mode: int) -> int:
    fmt = mode & 0o170000
    if fmt == 0o100000:
        return KIND_FILE
    if fmt == 0o040000:
        return KIND_DIR
    if fmt == 0o120000:
        return KIND_LINK
    return KIND_OTHER


def _read_xattrs(rows: _Rows, path: bytes, xnames: list[bytes]) -> bool:
    """Appends the entry's attributes; False when one could not be read for another reason
    than its absence (as ``read_xattr`` in ``_walk.c``)."""
    read_all = True
    for k, xname in enumerate(xnames):
        try:
            value: bytes | None = os.getxattr(path, xname, follow_symlinks=False)
        except OSError as exc:
            value = None
            read_all = read_all and exc.errno in (errno.ENODATA, errno.ENOTSUP)
        rows.xattrs[k].append(value)
    return read_all


def _open_dir(rootfd: int, rel: bytes, state: list[int]) -> int:
    while True:
        try:
            return os.open(rel or b".", _DIR_FLAGS | state[0], dir_fd=rootfd)
        except PermissionError as exc:
            if exc.errno != errno.EPERM or not state[0]:
                raise
            state[0] = 0  # O_NOATIME needs ownership; list without it


class _Memo:
    """``list_dirs``'s memo argument, parsed (see ``_walk.list_dirs``)."""

    def __init__(self, memo: tuple[int, int, Any, list[tuple[Any, Any, Any]]], nx: int):
        before, dev, dirs, values = memo
        self.before, self.dev = int(before), int(dev)
        self.dirs = np.frombuffer(dirs, np.int64)
        if len(values) != nx:
            raise ValueError("memo: one (inos, offsets, blob) per xattr")
        self.values = [(np.frombuffer(inos, np.int64), np.frombuffer(offsets, np.int32),
                        bytes(blob)) for inos, offsets, blob in values]
        if any(len(offsets) != len(inos) + 1 for inos, offsets, _ in self.values):
            raise ValueError("memo values: offsets must be one longer than inos")
        self.remembered = 0

    @staticmethod
    def _find(sorted_values: np.ndarray, key: int) -> int:
        j = int(np.searchsorted(sorted_values, key))
        return j if j < len(sorted_values) and sorted_values[j] == key else -1

    def trusts(self, dir_ino: int) -> bool:
        return self._find(self.dirs, dir_ino) >= 0

    def answers(self, record: np.ndarray) -> bool:
        """Whether the entry (a statx record) is on the memo's device and unchanged since."""
        if not int(record["mask"][0]) & _STATX_CTIME:
            return False
        dev = int(makedev(record["dev_major"], record["dev_minor"])[0])
        ctime_ns = int(record["ctime_s"][0]) * 10**9 + int(record["ctime_ns"][0])
        return dev == self.dev and ctime_ns < self.before

    def recall(self, rows: _Rows, ino: int) -> bool:
        """The entry's attributes from the memo, as ``_read_xattrs`` would append them;
        False where a value held cannot be handed out (as ``memo_xattrs`` in ``_walk.c``)."""
        whole = True
        for k, (inos, offsets, blob) in enumerate(self.values):
            j = self._find(inos, ino)
            value = None
            if j >= 0:
                if 0 <= offsets[j] <= offsets[j + 1] <= len(blob):
                    value = blob[offsets[j]: offsets[j + 1]]
                else:
                    whole = False
            rows.xattrs[k].append(value)
        self.remembered += 1
        return whole


def _result(rows: _Rows, flags: int, subdirs: list, errors: list, consumed: int, resume: Any,
            counts: list[int], memo: _Memo | None = None,
            listed: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    return {
        "n": rows.n,
        "columns": rows.columns(flags),
        "subdirs": subdirs,
        "errors": errors,
        "consumed": consumed,
        "resume": resume,
        "counts": tuple(counts),
        "listed": None if listed is None else (listed[0].tobytes(), listed[1].tobytes()),
        "remembered": memo.remembered if memo is not None else 0,
    }


def list_dirs(root: bytes, prefix: bytes, dirs: list[bytes], starts: list[Any],
              hide: list[tuple[bytes, ...] | None] | None, max_rows: int, flags: int,
              xattrs: list[bytes], columns: Sequence[str] | None = None,
              prefilter: Sequence[Sequence[tuple[str, str, float]]] | None = None,
              memo: tuple[int, int, Any, list[tuple[Any, Any, Any]]] | None = None
              ) -> dict[str, Any]:
    """Same contract as ``_walk.list_dirs`` (see its docstring); every numeric column is
    returned whatever ``columns`` asks for."""
    where = _Prefilter(prefilter) if prefilter is not None else None
    if len(starts) != len(dirs) or (hide is not None and len(hide) != len(dirs)):
        raise ValueError("dirs, starts and hide must have the same length")
    if len(xattrs) > MAX_XATTRS:
        raise ValueError(f"at most {MAX_XATTRS} extended attributes")
    remembers = _Memo(memo, len(xattrs)) if memo is not None else None
    listed = None
    if remembers is not None:
        listed = (np.full(len(dirs), -1, np.int64), np.zeros(len(dirs), np.uint8))
    all_kinds = bool(flags & WANT_ALL_KINDS)
    want_names = bool(flags & WANT_NAMES)
    want_paths = not flags & NO_PATHS
    max_rows = max(1, max_rows)
    prefix = prefix.rstrip(b"/")
    rows = _Rows(len(xattrs))
    subdirs: list[tuple[bytes, int, int]] = []
    errors: list[tuple[bytes, int, str]] = []
    counts = [0, 0, 0, 0, 0]  # files, dirs, others, errors, skipped
    consumed, resume = len(dirs), 0

    def error(path: bytes, err: int, op: str) -> None:
        if len(errors) < 256:
            errors.append((path, err, op))

    try:
        rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        error(root, exc.errno or errno.EIO, "o")
        counts[3] += 1
        return _result(rows, flags, subdirs, errors, consumed, resume, counts, remembers, listed)
    noatime = [_O_NOATIME]
    try:
        for i, rel in enumerate(dirs):
            if rows.n >= max_rows or len(rows.paths) >= _BLOB_LIMIT:
                consumed = i
                break
            start = starts[i]
            if isinstance(start, _Resume):
                fd, it = start.fd, start.it
                start.fd = -1  # ownership moves here
            else:
                try:
                    fd = _open_dir(rootfd, rel, noatime)
                except OSError as exc:
                    error(rel, exc.errno or errno.EIO, "o")
                    counts[4 if exc.errno in (errno.EACCES, errno.EPERM) else 3] += 1
                    continue
                try:
                    it = os.scandir(fd)
                except OSError as exc:
                    error(rel, exc.errno or errno.EIO, "r")
                    counts[3] += 1
                    os.close(fd)
                    continue
            vis = prefix + b"/" + rel + b"/" if rel else prefix + b"/"
            rel_slash = rel + b"/" if rel else b""
            real = root + b"/" + rel_slash if xattrs else b""
            hidden = hide[i] if hide is not None else None
            stop = False
            trusted = complete = False    # as in _walk.c's run_job
            if remembers is not None and listed is not None:
                try:
                    ds = os.fstat(fd)
                except OSError:
                    pass
                else:
                    listed[0][i] = ds.st_ino
                    complete = ds.st_dev == remembers.dev and all_kinds and where is None
                    trusted = complete and remembers.trusts(ds.st_ino)
            try:
                for entry in it:
                    name = os.fsencode(entry.name)
                    if hidden and name in hidden:
                        complete = False
                        continue
                    if entry.is_file(follow_symlinks=False):
                        kind = KIND_FILE
                    elif entry.is_dir(follow_symlinks=False):
                        kind = KIND_DIR
                    elif entry.is_symlink():
                        kind = KIND_LINK
                    else:
                        kind = KIND_OTHER
                    emit = kind == KIND_FILE or all_kinds
                    if emit:
                        mode = rows.stat(fd, name)
                        if mode < 0:
                            error(rel_slash + name, -mode, "t")
                            counts[3] += 1
                            complete = False
                            continue
                        kind = _kind_of_mode(mode)
                        emit = kind == KIND_FILE or all_kinds
                        if emit and where is not None:
                            emit = where.passes(rows.sx[rows.n: rows.n + 1])
                    counts[0 if kind == KIND_FILE else 1 if kind == KIND_DIR else 2] += 1
                    row = -1
                    if emit:
                        row = rows.n
                        rows.dir.append(i)
                        rows.kind.append(kind)
                        if want_paths:
                            rows.paths += vis
                            rows.paths += name
                        rows.path_ends.append(len(rows.paths))
                        if want_names:
                            rows.names += name
                            rows.name_ends.append(len(rows.names))
                        if xattrs:
                            record = rows.sx[rows.n: rows.n + 1]
                            if trusted and remembers is not None and remembers.answers(record):
                                complete &= remembers.recall(rows, int(record["ino"][0]))
                            elif not _read_xattrs(rows, real + name, xattrs):
                                complete = False
                        rows.n += 1
                    if kind == KIND_DIR:
                        subdirs.append((rel_slash + name, i, row))
                    if rows.n >= max_rows or len(rows.paths) >= _BLOB_LIMIT:
                        consumed, resume, stop = i, _Resume(fd, it), True
                        break
            except OSError as exc:
                error(rel, exc.errno or errno.EIO, "r")
                counts[3] += 1
                complete = False
            if listed is not None:
                listed[1][i] = complete
            if stop:
                break
            it.close()
            os.close(fd)
    finally:
        os.close(rootfd)
    return _result(rows, flags, subdirs, errors, consumed, resume, counts, remembers, listed)


def stat_path(path: bytes, visible: bytes, flags: int, xattrs: list[bytes],
              prefilter: Sequence[Sequence[tuple[str, str, float]]] | None = None
              ) -> dict[str, Any]:
    """One row for ``path`` itself (the scan root), shown as ``visible``."""
    where = _Prefilter(prefilter) if prefilter is not None else None
    rows = _Rows(len(xattrs))
    errors: list[tuple[bytes, int, str]] = []
    counts = [0, 0, 0, 0, 0]
    mode = rows.stat(_AT_FDCWD, path)
    if mode < 0:
        errors.append((path, -mode, "t"))
        counts[3] += 1
    else:
        kind = _kind_of_mode(mode)
        counts[0 if kind == KIND_FILE else 1 if kind == KIND_DIR else 2] += 1
        emit = kind == KIND_FILE or flags & WANT_ALL_KINDS
        if emit and where is not None:
            emit = where.passes(rows.sx[:1])
        if emit:
            rows.dir.append(0)
            rows.kind.append(kind)
            if not flags & NO_PATHS:
                rows.paths += visible
            rows.path_ends.append(len(rows.paths))
            if flags & WANT_NAMES:
                rows.names += os.path.basename(visible.rstrip(b"/")) or b"/"
                rows.name_ends.append(len(rows.names))
            if xattrs:
                _read_xattrs(rows, path, xattrs)
            rows.n = 1
    return _result(rows, flags, [], errors, 1, 0, counts)


def escape(data: Any, offsets: Any, keep: bytes, mode: int) -> tuple[Any, Any] | None:
    """Same contract as ``_walk.escape``: numpy, vectorised."""
    off = np.frombuffer(offsets, np.int32)
    src = np.frombuffer(data, np.uint8)[off[0]: off[-1]]
    table = np.frombuffer(keep, np.uint8) == 0
    need = table[src]
    if not need.any():
        return None
    width = 3 if mode == 0 else 2
    extra = need.astype(np.int64) * (width - 1)
    cum = np.zeros(len(src) + 1, np.int64)
    np.cumsum(extra, out=cum[1:])
    rel = off - off[0]
    new_off = (rel + cum[rel]).astype(np.int32)
    out = np.empty(len(src) + int(cum[-1]), np.uint8)
    pos = np.arange(len(src), dtype=np.int64) + cum[:-1]
    out[pos[~need]] = src[~need]
    p = pos[need]
    c = src[need]
    if mode == 0:
        hexdigits = np.frombuffer(b"0123456789ABCDEF", np.uint8)
        out[p] = ord("%")
        out[p + 1] = hexdigits[c >> 4]
        out[p + 2] = hexdigits[c & 15]
    else:
        out[p] = ord("\\")
        out[p + 1] = np.where(c == 10, ord("n"), c)
    return out, new_off


class Row:
    """Twin of ``_walk.Row``: a record of one row of a ``Records``' columns (or made from
    its values), whose fields are the ``Field`` descriptors of its subclass (which names
    them in ``_fields``); it indexes, iterates, compares and hashes as the tuple of its
    values."""

    __slots__ = ("_columns", "_i", "_values")
    _fields: tuple[str, ...] = ()

    def __new__(cls, *args: Any, **named: Any) -> Any:
        if len(args) + len(named) != len(cls._fields):
            raise TypeError(f"{cls.__name__}() takes {len(cls._fields)} values "
                            f"({len(args) + len(named)} given)")
        values = args + tuple(named.pop(f) for f in cls._fields[len(args):] if f in named)
        if named or len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__}() is missing a value (or was given another name)")
        self = object.__new__(cls)
        self._columns, self._i, self._values = None, 0, values
        return self

    def _field(self, k: int) -> Any:
        if not 0 <= k < len(self):
            raise IndexError("record index out of range")
        if self._columns is None:
            return self._values[k]
        c = self._columns[k]
        return (c[self._i] if c.ndim else c).item()

    def _tuple(self) -> tuple[Any, ...]:
        return tuple(self._field(k) for k in range(len(self)))

    def __len__(self) -> int:
        return len(self._values if self._columns is None else self._columns)

    def __getitem__(self, key: Any) -> Any:
        if hasattr(key, "__index__"):
            k = operator.index(key)
            return self._field(k + len(self) if k < 0 else k)
        return self._tuple()[key]

    def __iter__(self) -> Any:
        return iter(self._tuple())

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), self._tuple()


def _as_tuple(x: Any) -> tuple[Any, ...] | None:
    return x._tuple() if isinstance(x, Row) else x if isinstance(x, tuple) else None


def _compare(op: Any) -> Any:
    def compare(a: Any, b: Any) -> Any:
        ta, tb = _as_tuple(a), _as_tuple(b)
        return NotImplemented if ta is None or tb is None else op(ta, tb)
    return compare


for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(Row, f"__{_name}__", _compare(getattr(operator, _name)))


class Field:
    """Twin of ``_walk.Field``: the read-only descriptor of a ``Row``'s field ``index``."""

    __slots__ = ("_k", "_name")

    def __init__(self, index: int, name: str) -> None:
        self._k, self._name = operator.index(index), name

    def __get__(self, row: Any, owner: Any = None) -> Any:
        if row is None:
            return self
        if not isinstance(row, Row):
            raise TypeError(f"field {self._name} reads a Row, not {type(row).__name__}")
        return row._field(self._k)

    def __set__(self, row: Any, value: Any) -> None:
        raise AttributeError(f"field {self._name} is read-only")

    def __repr__(self) -> str:
        return f"<field {self._name} ({self._k})>"


class Records:
    """Twin of ``_walk.Records``: one ``type`` record per row of int64/float64 columns (a
    0-d array is a constant); ``next(term)`` (None past the end, or at the first row whose
    ``stop`` column is at least a nonzero ``term``) and iteration go on from ``pos``. With
    an int64 ``order``, one record per row number there. A ``Row`` subclass reads the
    columns; another type (``_walk.Row``'s, when the tests compare the twins) is made from
    the row's values."""

    def __init__(self, type_: Any, columns: Sequence[Any], stop: int = -1,
                 order: Any = None) -> None:
        if not (isinstance(type_, type) and hasattr(type_, "_fields")):
            raise TypeError("record type must be a Row subclass")
        self._type, self._view = type_, issubclass(type_, Row)
        self._columns = [np.asarray(c) for c in columns]
        if any(c.dtype not in (np.int64, np.float64) for c in self._columns):
            raise TypeError("columns must be int64 or float64")
        lengths = {len(c) for c in self._columns if c.ndim}
        if not self._columns or len(lengths) > 1:
            raise ValueError("columns differ in length")
        self._n = lengths.pop() if lengths else 1
        if order is not None:
            order = np.asarray(order)
            if order.dtype != np.int64:
                raise TypeError("order is not int64")
            if len(order) and not 0 <= order.min() <= order.max() < self._n:
                raise ValueError(f"order names a row not in 0..{self._n - 1}")
            self._n = len(order)
        self._order = order
        if not -1 <= stop < len(self._columns) or (
                stop >= 0 and self._columns[stop].dtype.kind == "f"):
            raise ValueError("stop must name an int64 column")
        self._stop = self._columns[stop] if stop >= 0 else None
        self._pos = 0

    def __len__(self) -> int:
        return self._n

    @property
    def pos(self) -> int:
        return self._pos

    @pos.setter
    def pos(self, value: int) -> None:
        self._pos = min(max(int(value), 0), len(self))

    def at(self, i: int) -> Any:
        if not 0 <= i < len(self):
            raise IndexError("record index out of range")
        i = i if self._order is None else int(self._order[i])
        if not self._view:
            return self._type(*((c[i] if c.ndim else c).item() for c in self._columns))
        row = object.__new__(self._type)
        row._columns, row._i, row._values = self._columns, i, None
        return row

    def next(self, term: int = 0, /) -> Any:
        term = operator.index(term)
        if self._pos >= len(self):
            return None
        stop = self._stop
        at = self._pos if self._order is None else self._order[self._pos]
        if term and stop is not None and int(stop[at] if stop.ndim else stop) >= term:
            return None
        self._pos += 1
        return self.at(self._pos - 1)

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> Any:
        row = self.next()
        if row is None:
            raise StopIteration
        return row
