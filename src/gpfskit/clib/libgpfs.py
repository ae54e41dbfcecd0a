"""The real-cluster backend: ctypes bindings to Storage Scale's ``libgpfs.so``.

The library (directive ``gpfskit.clib.library``, default ``/usr/lpp/mmfs/lib/libgpfs.so``)
is loaded on the first call that needs it; nothing is compiled, so cluster nodes need no
compiler. A failing call raises ``OSError`` with the errno libgpfs set.

The structures below mirror gpfs.h: ``gpfs_iattr64_t``, ``gpfs_direntx64_t``,
``gpfs_quotaInfo_t``, the gpfs_fcntl headers and the Linux ``struct stat64`` /
``struct statfs64`` that ``gpfs_stat``/``gpfs_statfs64`` fill. The test suite builds a fake
``libgpfs.so`` from C with the same declarations and checks every field both ways.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import Any

from gpfskit.clib.types import (
    direntx,
    fssnap_handle,
    fssnap_id,
    iattr,
    ifile,
    inodescan,
    os_error,
    stat_result,
    statfs_result,
)

c_ino64 = ctypes.c_ulonglong
c_off64 = ctypes.c_longlong
GPFS_SUPER_MAGIC = 0x47504653
GPFS_SNAPSHOTS = ".snapshots"


class gpfs_timestruc64(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_longlong), ("tv_nsec", ctypes.c_int)]


class gpfs_timestruc(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_uint), ("tv_nsec", ctypes.c_uint)]


class gpfs_fssnap_id(ctypes.Structure):
    _fields_ = [("opaque", ctypes.c_char * 48)]


class gpfs_iattr64(ctypes.Structure):
    _fields_ = [
        ("ia_version", ctypes.c_int), ("ia_reclen", ctypes.c_int),
        ("ia_checksum", ctypes.c_int), ("ia_mode", ctypes.c_uint),
        ("ia_uid", ctypes.c_uint), ("ia_gid", ctypes.c_uint),
        ("ia_inode", c_ino64), ("ia_gen", ctypes.c_ulonglong),
        ("ia_nlink", ctypes.c_ulonglong), ("ia_size", c_off64), ("ia_blocks", c_off64),
        ("ia_atime", gpfs_timestruc64), ("ia_winflags", ctypes.c_uint),
        ("ia_pad1", ctypes.c_uint), ("ia_mtime", gpfs_timestruc64),
        ("ia_flags", ctypes.c_uint), ("ia_repl_data", ctypes.c_ubyte),
        ("ia_repl_data_max", ctypes.c_ubyte), ("ia_repl_meta", ctypes.c_ubyte),
        ("ia_repl_meta_max", ctypes.c_ubyte), ("ia_ctime", gpfs_timestruc64),
        ("ia_blocksize", ctypes.c_int), ("ia_pad3", ctypes.c_uint),
        ("ia_createtime", gpfs_timestruc64), ("ia_xperm", ctypes.c_uint),
        ("ia_dev", ctypes.c_uint), ("ia_rdev", ctypes.c_uint),
        ("ia_pcacheflags", ctypes.c_uint), ("ia_modsnapid", ctypes.c_ulonglong),
        ("ia_filesetid", ctypes.c_uint), ("ia_datapoolid", ctypes.c_uint),
        ("ia_inode_space_mask", c_ino64), ("ia_dirminsize", c_off64),
        ("ia_unused", ctypes.c_uint * 4),
    ]


class gpfs_direntx64(ctypes.Structure):
    _fields_ = [("d_version", ctypes.c_int), ("d_reclen", ctypes.c_ushort),
                ("d_type", ctypes.c_ushort), ("d_ino", c_ino64), ("d_gen", ctypes.c_ulonglong),
                ("d_flags", ctypes.c_uint), ("d_name", ctypes.c_char * 1)]  # NUL-terminated


class gpfs_quotaInfo(ctypes.Structure):
    _fields_ = [("blockUsage", c_off64), ("blockHardLimit", c_off64),
                ("blockSoftLimit", c_off64), ("blockInDoubt", c_off64),
                ("inodeUsage", ctypes.c_int), ("inodeHardLimit", ctypes.c_int),
                ("inodeSoftLimit", ctypes.c_int), ("inodeInDoubt", ctypes.c_int),
                ("quoId", ctypes.c_uint), ("entryType", ctypes.c_int),
                ("blockGraceTime", ctypes.c_uint), ("inodeGraceTime", ctypes.c_uint)]


class stat64(ctypes.Structure):
    _fields_ = [("st_dev", ctypes.c_ulong), ("st_ino", ctypes.c_ulong),
                ("st_nlink", ctypes.c_ulong), ("st_mode", ctypes.c_uint),
                ("st_uid", ctypes.c_uint), ("st_gid", ctypes.c_uint), ("pad0", ctypes.c_int),
                ("st_rdev", ctypes.c_ulong), ("st_size", ctypes.c_long),
                ("st_blksize", ctypes.c_long), ("st_blocks", ctypes.c_long),
                ("st_atime", ctypes.c_long), ("st_atime_ns", ctypes.c_long),
                ("st_mtime", ctypes.c_long), ("st_mtime_ns", ctypes.c_long),
                ("st_ctime", ctypes.c_long), ("st_ctime_ns", ctypes.c_long),
                ("reserved", ctypes.c_long * 3)]


class statfs64(ctypes.Structure):
    _fields_ = [("f_type", ctypes.c_long), ("f_bsize", ctypes.c_long),
                ("f_blocks", ctypes.c_ulong), ("f_bfree", ctypes.c_ulong),
                ("f_bavail", ctypes.c_ulong), ("f_files", ctypes.c_ulong),
                ("f_ffree", ctypes.c_ulong), ("f_fsid", ctypes.c_int * 2),
                ("f_namelen", ctypes.c_long), ("f_frsize", ctypes.c_long),
                ("f_flags", ctypes.c_long), ("f_spare", ctypes.c_long * 4)]


class gpfs_winattr(ctypes.Structure):
    _fields_ = [("creationTime", gpfs_timestruc), ("winAttrs", ctypes.c_uint)]


# gpfs_fcntl: a header, then one request --------------------------------------------------
GPFS_FCNTL_CURRENT_VERSION = 1
GPFS_FCNTL_GET_REPLICATION = 1004
GPFS_FCNTL_GET_STORAGEPOOL = 1008
GPFS_FCNTL_GET_FILESETNAME = 1009
GPFS_FCNTL_GET_SNAPSHOTNAME = 1010
GPFS_WINATTR_SET_ATTRS = 0x1


class gpfsFcntlHeader(ctypes.Structure):
    _fields_ = [("totalLength", ctypes.c_int), ("fcntlVersion", ctypes.c_int),
                ("errorOffset", ctypes.c_int), ("fcntlReserved", ctypes.c_int)]


class gpfsGetName(ctypes.Structure):
    _fields_ = [("structLen", ctypes.c_int), ("structType", ctypes.c_int),
                ("buffer", ctypes.c_char * 256)]


class gpfsGetReplication(ctypes.Structure):
    _fields_ = [("structLen", ctypes.c_int), ("structType", ctypes.c_int),
                ("metadataReplicas", ctypes.c_int), ("maxMetadataReplicas", ctypes.c_int),
                ("dataReplicas", ctypes.c_int), ("maxDataReplicas", ctypes.c_int),
                ("status", ctypes.c_int), ("reserved", ctypes.c_int)]


def _fcntl_request(op: type[ctypes.Structure]) -> type[ctypes.Structure]:
    return type(f"Fcntl{op.__name__}", (ctypes.Structure,),
                {"_fields_": [("hdr", gpfsFcntlHeader), ("op", op)]})


_NAME_REQUEST = _fcntl_request(gpfsGetName)
_REPLICATION_REQUEST = _fcntl_request(gpfsGetReplication)

Q_GETQUOTA, Q_QUOTAON, Q_QUOTAOFF = 3, 1, 2


def qcmd(cmd: int, qtype: int) -> int:
    return (cmd << 8) | (qtype & 0xFF)


P, INT, UI, CP, V = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p, None)
PP = ctypes.POINTER(ctypes.c_void_p)
#: name -> (restype, argtypes), as gpfs.h declares them.
SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "gpfs_get_fssnaphandle_by_path": (P, [CP]),
    "gpfs_get_fssnaphandle_by_name": (P, [CP, CP]),
    "gpfs_get_fset_snaphandle_by_name": (P, [CP, CP, CP]),
    "gpfs_get_fssnaphandle_by_fssnapid": (P, [ctypes.POINTER(gpfs_fssnap_id)]),
    "gpfs_get_fssnapid_from_fssnaphandle": (INT, [P, ctypes.POINTER(gpfs_fssnap_id)]),
    "gpfs_get_fsname_from_fssnaphandle": (CP, [P]),
    "gpfs_get_snapname_from_fssnaphandle": (CP, [P]),
    "gpfs_get_pathname_from_fssnaphandle": (CP, [P]),
    "gpfs_free_fssnaphandle": (V, [P]),
    "gpfs_cmp_fssnapid": (INT, [ctypes.POINTER(gpfs_fssnap_id), ctypes.POINTER(gpfs_fssnap_id),
                              ctypes.POINTER(INT)]),
    "gpfs_open_inodescan64": (P, [P, ctypes.POINTER(gpfs_fssnap_id), ctypes.POINTER(c_ino64)]),
    "gpfs_next_inode64": (INT, [P, c_ino64, PP]),
    "gpfs_seek_inode64": (INT, [P, c_ino64]),
    "gpfs_stat_inode64": (INT, [P, c_ino64, c_ino64, PP]),
    "gpfs_close_inodescan": (V, [P]),
    "gpfs_igetfilesetname": (INT, [P, UI, P, INT]),
    "gpfs_igetstoragepool": (INT, [P, INT, P, INT]),
    "gpfs_iopen64": (P, [P, c_ino64, INT, P, CP]),
    "gpfs_iread": (INT, [P, P, INT, ctypes.POINTER(c_off64)]),
    "gpfs_ireaddir64": (INT, [P, PP]),
    "gpfs_iclose": (V, [P]),
    "gpfs_stat": (INT, [CP, ctypes.POINTER(stat64)]),
    "gpfs_lstat": (INT, [CP, ctypes.POINTER(stat64)]),
    "gpfs_statlite": (INT, [CP, ctypes.POINTER(UI), ctypes.POINTER(stat64)]),
    "gpfs_lstatlite": (INT, [CP, ctypes.POINTER(UI), ctypes.POINTER(stat64)]),
    "gpfs_statfs64": (INT, [CP, ctypes.POINTER(statfs64)]),
    "gpfs_getfilesetid": (INT, [CP, CP, ctypes.POINTER(INT)]),
    "gpfs_fcntl": (INT, [INT, P]),
    "gpfs_quotactl": (INT, [CP, INT, INT, P]),
    "gpfs_get_winattrs_path": (INT, [CP, ctypes.POINTER(gpfs_winattr)]),
    "gpfs_set_winattrs_path": (INT, [CP, INT, ctypes.POINTER(gpfs_winattr)]),
    "gpfs_clone_snap": (INT, [CP, CP]),
    "gpfs_clone_copy": (INT, [CP, CP]),
    "gpfs_clone_split": (INT, [INT, INT]),
    "gpfs_clone_unsnap": (INT, [INT]),
    "gpfs_declone": (INT, [INT, INT, c_off64, ctypes.POINTER(c_off64)]),
}


class Library:
    """``libgpfs.so`` with typed functions, loaded on first use of a function."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lib: ctypes.CDLL | None = None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in SIGNATURES:
            raise AttributeError(name)
        if self._lib is None:
            try:
                self._lib = ctypes.CDLL(self.path, use_errno=True)
            except OSError as exc:
                raise os_error(errno.ENOSYS, f"cannot load {self.path} ({exc})") from None
        try:
            fn = getattr(self._lib, name)
        except AttributeError:
            raise os_error(errno.ENOSYS, f"{self.path} has no {name}") from None
        fn.restype, fn.argtypes = SIGNATURES[name]
        setattr(self, name, fn)
        return fn


def _fail(call: str, filename: str | None = None) -> OSError:
    return os_error(ctypes.get_errno() or errno.EIO, call, filename)


def _path(value: Any, call: str) -> bytes:
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f"{call}: path must be a str, not {type(value).__name__}")
    raw = os.fsencode(value)
    if not raw or b"\0" in raw:  # C would see the path cut at the NUL
        raise os_error(errno.EINVAL, f"{call}: invalid path {os.fsdecode(raw)!r}",
                       os.fsdecode(raw))
    return raw


def _time(t: gpfs_timestruc64) -> float:
    return t.tv_sec + t.tv_nsec / 1e9


def iattr_of(a: gpfs_iattr64) -> iattr:
    return iattr(a.ia_mode, a.ia_uid, a.ia_gid, a.ia_inode, a.ia_gen, a.ia_nlink, a.ia_size,
                 a.ia_blocks, _time(a.ia_atime), _time(a.ia_mtime), _time(a.ia_ctime),
                 _time(a.ia_createtime), a.ia_winflags, a.ia_flags, a.ia_repl_data,
                 a.ia_repl_data_max, a.ia_repl_meta, a.ia_repl_meta_max, a.ia_blocksize,
                 a.ia_xperm, a.ia_dev, a.ia_rdev, a.ia_pcacheflags, a.ia_modsnapid,
                 a.ia_filesetid, a.ia_datapoolid, a.ia_inode_space_mask)


def stat_of(s: stat64) -> stat_result:
    return stat_result(s.st_mode, s.st_ino, s.st_dev, s.st_nlink, s.st_uid, s.st_gid,
                       s.st_size, s.st_atime, s.st_mtime, s.st_ctime, s.st_rdev,
                       s.st_blksize, s.st_blocks)


class _Pointer:
    """A libgpfs pointer that the garbage collector frees too (as the original does)."""

    def __init__(self, ptr: int, free: Callable[[int], None]) -> None:
        self.ptr, self._free = ptr, free

    def release(self) -> None:
        if self.ptr:
            ptr, self.ptr = self.ptr, 0
            self._free(ptr)

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:
            pass


class LibgpfsBackend:
    """Every call mapped 1:1 onto its libgpfs function."""

    name = "scale"

    def __init__(self, path: str) -> None:
        self.lib = Library(path)

    # fssnap ------------------------------------------------------------------------------
    def _new_handle(self, ptr: int | None, call: str, filename: str | None = None
                    ) -> fssnap_handle:
        if not ptr:
            raise _fail(call, filename)
        return fssnap_handle(_Pointer(ptr, self.lib.gpfs_free_fssnaphandle), self)

    def fssnap_by_name(self, fs: str, snap: str | None, fileset: str | None) -> fssnap_handle:
        call = "get_fssnaphandle_by_name"
        enc = [None if v is None else os.fsencode(v) for v in (fs, snap, fileset)]
        if fileset is None:
            return self._new_handle(self.lib.gpfs_get_fssnaphandle_by_name(enc[0], enc[1]), call)
        return self._new_handle(
            self.lib.gpfs_get_fset_snaphandle_by_name(enc[0], enc[2], enc[1]), call)

    def fssnap_by_path(self, path: str) -> fssnap_handle:
        raw = _path(path, "get_fssnaphandle_by_path")
        return self._new_handle(self.lib.gpfs_get_fssnaphandle_by_path(raw),
                                "get_fssnaphandle_by_path", os.fsdecode(raw))

    def fssnap_by_id(self, ident: fssnap_id) -> fssnap_handle:
        if not isinstance(ident, fssnap_id):
            raise TypeError("get_fssnaphandle_by_fssnapid: expected an fssnap_id")
        raw = gpfs_fssnap_id.from_buffer_copy(ident.raw)
        return self._new_handle(self.lib.gpfs_get_fssnaphandle_by_fssnapid(ctypes.byref(raw)),
                                "get_fssnaphandle_by_fssnapid")

    @staticmethod
    def _ptr(handle: Any, kind: type, call: str) -> int:
        if not isinstance(handle, kind):
            raise os_error(errno.EINVAL, f"{call}: not an {kind.__name__}: {handle!r}")
        h = handle._live(call)
        if not h.ptr:
            raise os_error(errno.EBADF, f"{call}: {kind.__name__} was freed")
        return h.ptr

    def _text(self, fn: Callable[[int], bytes | None], handle: fssnap_handle, call: str) -> str:
        value = fn(self._ptr(handle, fssnap_handle, call))
        if value is None:
            raise _fail(call)
        return os.fsdecode(value)

    def fssnapid(self, handle: fssnap_handle) -> fssnap_id:
        call = "get_fssnapid_from_fssnaphandle"
        raw = gpfs_fssnap_id()
        if self.lib.gpfs_get_fssnapid_from_fssnaphandle(self._ptr(handle, fssnap_handle, call),
                                                        ctypes.byref(raw)) != 0:
            raise _fail(call)
        return fssnap_id(self.fsname(handle), 0, bytes(raw))

    def fsname(self, handle: fssnap_handle) -> str:
        return self._text(self.lib.gpfs_get_fsname_from_fssnaphandle, handle,
                          "get_fsname_from_fssnaphandle")

    def pathname(self, handle: fssnap_handle) -> str:
        return self._text(self.lib.gpfs_get_pathname_from_fssnaphandle, handle,
                          "get_pathname_from_fssnaphandle")

    def snapname(self, handle: fssnap_handle) -> str:
        fn = self.lib.gpfs_get_snapname_from_fssnaphandle
        value = fn(self._ptr(handle, fssnap_handle, "get_snapname_from_fssnaphandle"))
        return os.fsdecode(value or b"")

    def free(self, handle: fssnap_handle) -> None:
        self._ptr(handle, fssnap_handle, "free_fssnaphandle")
        handle._release().release()

    def cmp(self, a: fssnap_id, b: fssnap_id) -> int:
        result = ctypes.c_int()
        ra, rb = (gpfs_fssnap_id.from_buffer_copy(x.raw) for x in (a, b))
        if self.lib.gpfs_cmp_fssnapid(ctypes.byref(ra), ctypes.byref(rb),
                                      ctypes.byref(result)) != 0:
            raise _fail("cmp_fssnapid")
        return (result.value > 0) - (result.value < 0)

    # inode scans ---------------------------------------------------------------------------
    def open_iscan(self, handle: fssnap_handle, prev: fssnap_id | None, max_ino: int | None
                   ) -> inodescan:
        call = "open_inodescan"
        ptr = self._ptr(handle, fssnap_handle, call)
        prev_raw = None if prev is None else ctypes.byref(
            gpfs_fssnap_id.from_buffer_copy(prev.raw))
        maxp = None if max_ino is None else ctypes.byref(c_ino64(max_ino))
        scan = self.lib.gpfs_open_inodescan64(ptr, prev_raw, maxp)
        if not scan:
            raise _fail(call)
        return inodescan(_Pointer(scan, self.lib.gpfs_close_inodescan), self)

    def _iattr(self, rc: int, out: ctypes.c_void_p, call: str) -> iattr | None:
        if rc != 0:
            raise _fail(call)
        if not out.value:
            return None
        return iattr_of(gpfs_iattr64.from_address(out.value))

    def next_inode(self, scan: inodescan, term: int) -> iattr | None:
        out = ctypes.c_void_p()
        rc = self.lib.gpfs_next_inode64(self._ptr(scan, inodescan, "next_inode"), term,
                                        ctypes.byref(out))
        return self._iattr(rc, out, "next_inode")

    def seek_inode(self, scan: inodescan, ino: int) -> None:
        if self.lib.gpfs_seek_inode64(self._ptr(scan, inodescan, "seek_inode"), ino) != 0:
            raise _fail("seek_inode")

    def stat_inode(self, scan: inodescan, ino: int) -> iattr | None:
        out = ctypes.c_void_p()
        rc = self.lib.gpfs_stat_inode64(self._ptr(scan, inodescan, "stat_inode"), ino, ino,
                                        ctypes.byref(out))
        found = self._iattr(rc, out, "stat_inode")
        return found if found is not None and found.ia_inode == ino else None

    def close_iscan(self, scan: inodescan) -> None:
        self._ptr(scan, inodescan, "close_inodescan")
        scan._release().release()

    def _iget(self, fn: Callable[..., int], scan: inodescan, ident: int, call: str) -> str:
        buf = ctypes.create_string_buffer(256)
        if fn(self._ptr(scan, inodescan, call), ident, buf, len(buf)) != 0:
            raise _fail(call)
        return os.fsdecode(buf.value)

    def fileset_name(self, fileset_id: int, scan: inodescan) -> str:
        return self._iget(self.lib.gpfs_igetfilesetname, scan, fileset_id, "igetfilesetname")

    def pool_name(self, pool_id: int, scan: inodescan) -> str:
        return self._iget(self.lib.gpfs_igetstoragepool, scan, pool_id, "igetstoragepool")

    # ifile -------------------------------------------------------------------------------
    def iopen(self, handle: fssnap_handle, ino: int, open_flags: int) -> ifile:
        f = self.lib.gpfs_iopen64(self._ptr(handle, fssnap_handle, "iopen"), ino, open_flags,
                                  None, None)
        if not f:
            raise _fail("iopen")
        return ifile(_Pointer(f, self.lib.gpfs_iclose), self)

    def iread(self, f: ifile, size: int, offset: int) -> bytes:
        buf = ctypes.create_string_buffer(size)
        off = c_off64(offset)
        n = self.lib.gpfs_iread(self._ptr(f, ifile, "iread"), buf, size, ctypes.byref(off))
        if n < 0:
            raise _fail("iread")
        return buf.raw[:n]

    def ireaddir(self, f: ifile) -> direntx | None:
        out = ctypes.c_void_p()
        if self.lib.gpfs_ireaddir64(self._ptr(f, ifile, "ireaddir"), ctypes.byref(out)) != 0:
            raise _fail("ireaddir")
        if not out.value:
            return None
        d = gpfs_direntx64.from_address(out.value)
        name = ctypes.string_at(out.value + gpfs_direntx64.d_name.offset)
        return direntx(d.d_type, d.d_ino, d.d_gen, d.d_flags, os.fsdecode(name))

    def iclose(self, f: ifile) -> None:
        self._ptr(f, ifile, "iclose")
        f._release().release()

    # paths -------------------------------------------------------------------------------
    def stat(self, path: str, follow: bool, call: str, litemask: int | None = None
             ) -> stat_result:
        raw, buf = _path(path, call), stat64()
        if litemask is None:
            fn = self.lib.gpfs_stat if follow else self.lib.gpfs_lstat
            rc = fn(raw, ctypes.byref(buf))
        else:
            fn = self.lib.gpfs_statlite if follow else self.lib.gpfs_lstatlite
            rc = fn(raw, ctypes.byref(ctypes.c_uint(litemask)), ctypes.byref(buf))
        if rc != 0:
            raise _fail(call, os.fsdecode(raw))
        return stat_of(buf)

    def statfs(self, path: str) -> statfs_result:
        raw, buf = _path(path, "statfs"), statfs64()
        if self.lib.gpfs_statfs64(raw, ctypes.byref(buf)) != 0:
            raise _fail("statfs", os.fsdecode(raw))
        return statfs_result(buf.f_type, buf.f_bsize, buf.f_blocks, buf.f_bfree, buf.f_bavail,
                             buf.f_files, buf.f_ffree, buf.f_namelen)

    def locate(self, path: str, call: str) -> None:
        """EINVAL unless ``path`` is in a GPFS file system (what gpfs_stat checks)."""
        if self.statfs(path).f_type != GPFS_SUPER_MAGIC:
            raise os_error(errno.EINVAL, f"{call}: not in a GPFS file system", os.fspath(path))

    @staticmethod
    def hider(top: str) -> Callable[[str], tuple[str, ...]]:
        """GPFS itself leaves ``.snapshots`` out of directory listings."""
        return lambda _dirpath: ()

    def snapshot_path(self, path: str, snap: str, fileset: str | None) -> str:
        handle = self.fssnap_by_path(path)
        fs = self.fsname(handle)
        mount = self.pathname(handle)
        self.free(handle)
        base = mount
        if fileset is not None:
            scoped = self.fssnap_by_name(fs, None, fileset)
            base = self.pathname(scoped)
            self.free(scoped)
        rel = os.path.relpath(os.path.abspath(path), base)
        if rel.startswith(".."):
            raise os_error(errno.EINVAL, f"get_path_in_snapshot: {path} is not below {base}")
        return os.path.normpath(os.path.join(base, GPFS_SNAPSHOTS, snap, rel))

    def fileset_id(self, path: str, fileset: str) -> int:
        out = ctypes.c_int()
        if self.lib.gpfs_getfilesetid(_path(path, "getfilesetid"), os.fsencode(fileset),
                                      ctypes.byref(out)) != 0:
            raise _fail("getfilesetid", path)
        return out.value

    # file (by fd) --------------------------------------------------------------------------
    def _fcntl(self, fd: int, request: ctypes.Structure, op_type: int, call: str) -> Any:
        if isinstance(fd, bool) or not isinstance(fd, int):
            raise TypeError(f"{call}: fd must be an int, not {type(fd).__name__}")
        request.hdr.totalLength = ctypes.sizeof(request)
        request.hdr.fcntlVersion = GPFS_FCNTL_CURRENT_VERSION
        request.op.structLen = ctypes.sizeof(request.op)
        request.op.structType = op_type
        if self.lib.gpfs_fcntl(fd, ctypes.byref(request)) != 0:
            raise _fail(call)
        return request.op

    def _fd_name(self, fd: int, op_type: int, call: str) -> str:
        return os.fsdecode(self._fcntl(fd, _NAME_REQUEST(), op_type, call).buffer)

    def fd_fileset(self, fd: int) -> str:
        return self._fd_name(fd, GPFS_FCNTL_GET_FILESETNAME, "get_fileset_name")

    def fd_pool(self, fd: int) -> str:
        return self._fd_name(fd, GPFS_FCNTL_GET_STORAGEPOOL, "get_storage_pool")

    def fd_snapshot(self, fd: int) -> str:
        return self._fd_name(fd, GPFS_FCNTL_GET_SNAPSHOTNAME, "get_snapshot_name")

    def fd_replication(self, fd: int) -> dict[str, int | str]:
        op = self._fcntl(fd, _REPLICATION_REQUEST(), GPFS_FCNTL_GET_REPLICATION,
                         "get_replication")
        return {"metadataReplicas": op.metadataReplicas,
                "maxMetadataReplicas": op.maxMetadataReplicas,
                "dataReplicas": op.dataReplicas, "maxDataReplicas": op.maxDataReplicas,
                "status": op.status, "pool": self.fd_pool(fd)}

    def winattrs(self, path: str, attrs: int | None) -> int:
        raw, buf = _path(path, "winattrs"), gpfs_winattr()
        if attrs is None:
            if self.lib.gpfs_get_winattrs_path(raw, ctypes.byref(buf)) != 0:
                raise _fail("get_winattrs", path)
            return buf.winAttrs
        buf.winAttrs = attrs
        if self.lib.gpfs_set_winattrs_path(raw, GPFS_WINATTR_SET_ATTRS, ctypes.byref(buf)) != 0:
            raise _fail("set_winattrs", path)
        return attrs

    # clone -------------------------------------------------------------------------------
    def clone_paths(self, call: str, source: str | bytes, dest: str | bytes | None) -> None:
        """``gpfs_clone_snap``/``gpfs_clone_copy``: by path (a None ``dest`` is NULL)."""
        fn = getattr(self.lib, "gpfs_" + call)
        if fn(_path(source, call), None if dest is None else _path(dest, call)) != 0:
            raise _fail(call, os.fsdecode(source))

    def clone_file(self, call: str, path: str | bytes, *numbers: int) -> int | None:
        """``gpfs_clone_split``/``gpfs_clone_unsnap``/``gpfs_declone`` on a descriptor of
        ``path``: read-write, but read-only for a clone parent (``clone_unsnap``) [P].
        ``declone`` passes its offset by reference and returns the one libgpfs left."""
        fn = getattr(self.lib, "gpfs_" + call)
        fd = os.open(_path(path, call), os.O_RDONLY if call == "clone_unsnap" else os.O_RDWR)
        try:
            if call != "declone":
                if fn(fd, *numbers) != 0:
                    raise _fail(call, os.fsdecode(path))
                return None
            ancestor_limit, blocks, offset = numbers
            where = c_off64(offset)
            if fn(fd, ancestor_limit, blocks, ctypes.byref(where)) != 0:
                raise _fail(call, os.fsdecode(path))
            return where.value
        finally:
            os.close(fd)

    # quota -------------------------------------------------------------------------------
    def quota(self, path: str, qtype: int, ident: int) -> dict[str, int]:
        info = gpfs_quotaInfo()
        if self.lib.gpfs_quotactl(_path(path, "get_quota"), qcmd(Q_GETQUOTA, qtype), ident,
                                  ctypes.byref(info)) != 0:
            raise _fail("get_quota", path)
        return {name: getattr(info, name) for name, _ in gpfs_quotaInfo._fields_
                if name != "entryType"}

    def quota_switch(self, path: str, qtype: int, on: bool) -> None:
        cmd = qcmd(Q_QUOTAON if on else Q_QUOTAOFF, qtype)
        if self.lib.gpfs_quotactl(_path(path, "quota_on"), cmd, 0, None) != 0:
            raise _fail("quota_on" if on else "quota_off", path)
