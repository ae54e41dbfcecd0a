"""The emulated backend: each libgpfs call answered from the emulator's files and state.

The caller's real file permissions apply (a scan reads what the caller can read); nothing
here needs or checks root, unlike the real library.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from gpfskit.clib import flags
from gpfskit.clib.emulated.model import SNAPDIR, Model, Place, Target
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
from gpfskit.emulator import fileattrs, state
from gpfskit.emulator.quota_ledger import QuotaKey, QuotaLedger

if TYPE_CHECKING:
    from gpfskit.clib.emulated.iscan import InodeTable

GPFS_SUPER_MAGIC = 0x47504653
_DE_OF_KIND = {0o100000: flags.DE_REG, 0o040000: flags.DE_DIR, 0o120000: flags.DE_LNK,
               0o010000: flags.DE_FIFO, 0o020000: flags.DE_CHR, 0o060000: flags.DE_BLK,
               0o140000: flags.DE_SOCK}
QUOTA_TYPES = {0: "USR", 1: "GRP", 2: "FILESET"}
_ENFORCED = {"USR": "user", "GRP": "group", "FILESET": "fileset"}


class _Scan:
    """An open scan: the sorted inode table and a cursor at where ``next_inode`` stands."""

    def __init__(self, table: InodeTable) -> None:
        self.table = table
        self.records = table.records()


class _Open:
    """An inode opened with ``iopen``: its path, and a directory's pending entries."""

    def __init__(self, target: Target, path: str, st: os.stat_result) -> None:
        self.target, self.path, self.st = target, path, st
        self.entries: Iterator[direntx] | None = None


class EmulatedBackend:
    name = "emulated"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.model = Model(root)

    # fssnap ------------------------------------------------------------------------------
    def _handle(self, fs: sqlite3.Row, snap: sqlite3.Row | None, fileset: str | None
                ) -> fssnap_handle:
        live_rel = ""
        if fileset is not None:
            junction = next((j for j, n in self.model.junctions(fs).items() if n == fileset),
                            None)
            if junction is None:
                raise os_error(errno.ENOENT, f"fileset {fileset} is not linked")
            live_rel = junction
        if snap is None:
            path = os.path.join(fs["mounted_at"], live_rel) if live_rel else fs["mounted_at"]
        else:
            path = self.model.snapshot_root(fs, snap)
            if snap["fileset"] is None and live_rel:
                path = os.path.join(path, live_rel)
            elif snap["fileset"] is not None:
                live_rel = next(j for j, n in self.model.junctions(fs).items()
                                if n == snap["fileset"])
        if not os.path.isdir(path):
            raise os_error(errno.ENOENT, "snapshot copy missing", path)
        return fssnap_handle(Target(fs, snap, fileset, path, live_rel), self)

    def fssnap_by_name(self, fs_name: str, snap: str | None, fileset: str | None
                       ) -> fssnap_handle:
        call = "get_fssnaphandle_by_name"
        fs = self.model.filesystem(fs_name, call)
        for value, what in ((snap, "snapName"), (fileset, "fsetName")):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{call}: {what} must be a str or None")
        if fileset is not None and fileset not in self.model.fileset_ids(fs["name"]):
            raise os_error(errno.ENOENT, f"{call}: no fileset {fileset!r} in {fs['name']}")
        snap_row = None
        if snap:
            rows = [s for s in self.model.snapshots(fs["name"]) if s["name"] == snap]
            scoped = [s for s in rows if s["fileset"] == fileset] if fileset else []
            rows = scoped or [s for s in rows if s["fileset"] is None]
            if not rows:
                raise os_error(errno.ENOENT, f"{call}: no snapshot {snap!r} in {fs['name']}")
            snap_row = rows[0]
        return self._handle(fs, snap_row, fileset)

    def fssnap_by_path(self, path: str) -> fssnap_handle:
        place = self.model.locate(path, "get_fssnaphandle_by_path")
        if not os.path.lexists(place.path):
            raise os_error(errno.ENOENT, "get_fssnaphandle_by_path", os.fspath(path))
        return self._handle(place.fs, place.snapshot, None)

    def fssnap_by_id(self, ident: fssnap_id) -> fssnap_handle:
        if not isinstance(ident, fssnap_id):
            raise TypeError("get_fssnaphandle_by_fssnapid: expected an fssnap_id")
        fs = self.model.filesystem(ident.fs, "get_fssnaphandle_by_fssnapid")
        snap = None
        if ident.snap_id:
            snap = next((s for s in self.model.snapshots(fs["name"])
                         if s["snap_id"] == ident.snap_id), None)
            if snap is None:
                raise os_error(errno.ENOENT, "get_fssnaphandle_by_fssnapid: snapshot deleted")
        return self._handle(fs, snap, None)

    @staticmethod
    def _target(handle: fssnap_handle, call: str) -> Target:
        if not isinstance(handle, fssnap_handle):
            raise os_error(errno.EINVAL, f"{call}: not an fssnap_handle: {handle!r}")
        return handle._live(call)

    def fssnapid(self, handle: fssnap_handle) -> fssnap_id:
        t = self._target(handle, "get_fssnapid_from_fssnaphandle")
        return fssnap_id(t.fs["name"], t.snapshot["snap_id"] if t.snapshot else 0)

    def fsname(self, handle: fssnap_handle) -> str:
        return self._target(handle, "get_fsname_from_fssnaphandle").fs["name"]

    def pathname(self, handle: fssnap_handle) -> str:
        return self._target(handle, "get_pathname_from_fssnaphandle").path

    def snapname(self, handle: fssnap_handle) -> str:
        t = self._target(handle, "get_snapname_from_fssnaphandle")
        return t.snapshot["name"] if t.snapshot else ""

    def cmp(self, a: fssnap_id, b: fssnap_id) -> int:
        if a.fs != b.fs:
            raise os_error(errno.EINVAL, "cmp_fssnapid: snapshots of different file systems")
        # the live file system (id 0) is newer than every snapshot
        key = [x.snap_id or float("inf") for x in (a, b)]
        return (key[0] > key[1]) - (key[0] < key[1])

    def free(self, handle: fssnap_handle) -> None:
        self._target(handle, "free_fssnaphandle")
        handle._release()

    # inode scans ---------------------------------------------------------------------------
    def open_iscan(self, handle: fssnap_handle, prev: fssnap_id | None, max_ino: int | None
                   ) -> inodescan:
        t = self._target(handle, "open_inodescan")
        since = None
        if prev is not None:
            if not isinstance(prev, fssnap_id) or prev.fs != t.fs["name"]:
                raise os_error(errno.EINVAL, "open_inodescan: prev_fssnapid is not of this "
                               "file system")
            since = prev.snap_id
        from gpfskit.clib.emulated.iscan import InodeTable  # NumPy and pyarrow: scans only

        payload = _Scan(InodeTable(self.model, t, since, max_ino))
        scan = inodescan(payload, self)
        scan._next = payload.records.next   # next_inode's per-inode path: one C call
        return scan

    @staticmethod
    def _scan(scan: inodescan, call: str) -> _Scan:
        if not isinstance(scan, inodescan):
            raise os_error(errno.EINVAL, f"{call}: not an inodescan: {scan!r}")
        return scan._live(call)

    def next_inode(self, scan: inodescan, term: int) -> iattr | None:
        row: iattr | None = self._scan(scan, "next_inode").records.next(term)
        return row

    def rows(self, scan: inodescan) -> Iterator[iattr]:
        """The rest of the scan as an iterator (what ``utils.inode_iterator`` runs)."""
        return self._scan(scan, "next_inode").records

    def seek_inode(self, scan: inodescan, ino: int) -> None:
        s = self._scan(scan, "seek_inode")
        s.records.pos = s.table.position_of(_ino(ino))

    def stat_inode(self, scan: inodescan, ino: int) -> iattr | None:
        s = self._scan(scan, "stat_inode")
        i = s.table.position_of(_ino(ino))
        if i < len(s.table) and int(s.table.inodes[i]) == ino:
            return s.records.at(i)
        return None

    def close_iscan(self, scan: inodescan) -> None:
        self._scan(scan, "close_inodescan")
        scan._release()

    def fileset_name(self, fileset_id: int, scan: inodescan) -> str:
        t = self._scan(scan, "igetfilesetname").table.target
        for name, ident in self.model.fileset_ids(t.fs["name"]).items():
            if ident == fileset_id:
                return name
        raise os_error(errno.ENOENT, f"igetfilesetname: no fileset with id {fileset_id}")

    def pool_name(self, pool_id: int, scan: inodescan) -> str:
        t = self._scan(scan, "igetstoragepool").table.target
        for name, ident in self.model.pool_ids(t.fs["name"]).items():
            if ident == pool_id:
                return name
        raise os_error(errno.ENOENT, f"igetstoragepool: no pool with id {pool_id}")

    # ifile -------------------------------------------------------------------------------
    def iopen(self, handle: fssnap_handle, ino: int, open_flags: int) -> ifile:
        t = self._target(handle, "iopen")
        if open_flags & (os.O_WRONLY | os.O_RDWR):
            raise os_error(errno.EINVAL, "iopen: only read access is emulated")
        path = _find_inode(t.path, _ino(ino), self.hider(t.path))
        if path is None:
            raise os_error(errno.ENOENT, f"iopen: no inode {ino} in {t.path}")
        st = os.lstat(path)
        if os.path.isdir(path):
            os.listdir(path)  # EACCES now, as iopen64 refuses a directory the caller cannot read
        elif os.path.isfile(path) and not os.access(path, os.R_OK):
            raise os_error(errno.EACCES, "iopen", path)
        return ifile(_Open(t, path, st), self)

    @staticmethod
    def _ifile(f: ifile, call: str) -> _Open:
        if not isinstance(f, ifile):
            raise os_error(errno.EINVAL, f"{call}: not an ifile: {f!r}")
        return f._live(call)

    def iread(self, f: ifile, size: int, offset: int) -> bytes:
        o = self._ifile(f, "iread")
        if not os.path.isfile(o.path) or os.path.islink(o.path):
            raise os_error(errno.EISDIR if os.path.isdir(o.path) else errno.EINVAL, "iread")
        if size < 0 or offset < 0:
            raise os_error(errno.EINVAL, "iread: negative size or offset")
        fd = os.open(o.path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            return os.pread(fd, size, offset)
        finally:
            os.close(fd)

    def ireaddir(self, f: ifile) -> direntx | None:
        o = self._ifile(f, "ireaddir")
        if o.entries is None:
            if not os.path.isdir(o.path) or os.path.islink(o.path):
                raise os_error(errno.ENOTDIR, "ireaddir", o.path)
            o.entries = self._entries(o)
        return next(o.entries, None)

    def _entries(self, o: _Open) -> Iterator[direntx]:
        parent = os.lstat(os.path.dirname(o.path.rstrip("/")) or "/")
        yield direntx(flags.DE_DIR, o.st.st_ino, 0, 0, ".")
        yield direntx(flags.DE_DIR, parent.st_ino, 0, 0, "..")
        fs = o.target.fs
        junctions = self.model.junctions(fs)
        rows = {r["name"]: r for r in self.model.filesets(fs["name"])}
        base_rel = self._live_rel(o.target, o.path)
        hide = self.hidden(o.path)
        with os.scandir(o.path) as it:
            for entry in it:
                if entry.name in hide:
                    continue
                st = entry.stat(follow_symlinks=False)
                rel = f"{base_rel}/{entry.name}" if base_rel else entry.name
                d_flags = 0
                if rel in junctions and entry.is_dir(follow_symlinks=False):
                    row = rows.get(junctions[rel])
                    d_flags = flags.DEFLAGS["IJUNCTION" if row is not None and
                                            row["is_inode_space_owner"] else "JUNCTION"]
                yield direntx(_DE_OF_KIND.get(st.st_mode & 0o170000, flags.DE_OTHER),
                              st.st_ino, 0, d_flags, entry.name)

    @staticmethod
    def _live_rel(t: Target, path: str) -> str:
        below = os.path.relpath(path, t.path)
        below = "" if below == "." else below
        return "/".join(p for p in (t.live_rel, below) if p)

    def iclose(self, f: ifile) -> None:
        self._ifile(f, "iclose")
        f._release()

    # paths -------------------------------------------------------------------------------
    def locate(self, path: str, call: str) -> Place:
        return self.model.locate(path, call)

    def hider(self, top: str) -> Callable[[str], tuple[str, ...]]:
        """For a walk from ``top``: the names the file system does not list in a directory
        (``.snapshots`` at the root and at independent filesets' junctions)."""
        try:
            place = self.model.locate(top, "readdir")
        except OSError:
            return lambda _dirpath: ()
        if place.snapshot is not None:
            return lambda _dirpath: ()
        fs = place.fs
        owners = {r["name"] for r in self.model.filesets(fs["name"]) if r["is_inode_space_owner"]}
        roots = {os.path.normpath(os.path.join(fs["mounted_at"], j))
                 for j, name in self.model.junctions(fs).items() if j == "" or name in owners}

        def hidden(dirpath: str) -> tuple[str, ...]:
            return (SNAPDIR,) if os.path.normpath(os.path.abspath(dirpath)) in roots else ()

        return hidden

    def hidden(self, dirpath: str) -> tuple[str, ...]:
        return self.hider(dirpath)(dirpath)

    def stat(self, path: str, follow: bool, call: str, litemask: int | None = None
             ) -> stat_result:
        """The inode's attributes (every field is exact here, whatever ``litemask``)."""
        place = self.model.locate(path, call)
        return stat_of(os.stat(place.path, follow_symlinks=follow))

    def statfs(self, path: str) -> statfs_result:
        place = self.model.locate(path, "statfs")
        v = os.statvfs(place.path)
        return statfs_result(GPFS_SUPER_MAGIC, v.f_bsize, v.f_blocks, v.f_bfree, v.f_bavail,
                             v.f_files, v.f_ffree, v.f_namemax)

    def snapshot_path(self, path: str, snap: str, fileset: str | None) -> str:
        place = self.model.locate(path, "get_path_in_snapshot")
        handle = self.fssnap_by_name(place.fs["name"], snap, fileset)
        t: Target = handle._payload
        below = place.live_rel[len(t.live_rel):].lstrip("/") if t.live_rel else place.live_rel
        if t.live_rel and not (place.live_rel == t.live_rel
                               or place.live_rel.startswith(t.live_rel + "/")):
            raise os_error(errno.EINVAL, f"get_path_in_snapshot: {path} is not in the "
                           f"snapshot's fileset")
        return os.path.join(t.path, below) if below else t.path

    def fileset_id(self, path: str, fileset: str) -> int:
        place = self.model.locate(path, "getfilesetid")
        ids = self.model.fileset_ids(place.fs["name"])
        if fileset not in ids:
            raise os_error(errno.ENOENT, f"getfilesetid: no fileset {fileset!r}")
        return ids[fileset]

    # file (by fd) --------------------------------------------------------------------------
    def _fd_place(self, fd: int, call: str) -> Place:
        if isinstance(fd, bool) or not isinstance(fd, int):
            raise TypeError(f"{call}: fd must be an int, not {type(fd).__name__}")
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            raise os_error(errno.EBADF, call) from None
        return self.model.locate(path, call)

    def fd_fileset(self, fd: int) -> str:
        return self.model.fileset_of(self._fd_place(fd, "get_fileset_name"))

    def fd_pool(self, fd: int) -> str:
        place = self._fd_place(fd, "get_storage_pool")
        return fileattrs.pool_of(self.model.db, place.fs["name"], place.path,
                                 os.path.join(place.fs["mounted_at"], place.live_rel))

    def fd_snapshot(self, fd: int) -> str:
        place = self._fd_place(fd, "get_snapshot_name")
        return place.snapshot["name"] if place.snapshot is not None else ""

    def fd_replication(self, fd: int) -> dict[str, int]:
        place = self._fd_place(fd, "get_replication")
        attrs = json.loads(place.fs["attrs"] or "{}")
        meta, data = fileattrs.replication(place.path)
        meta_max, data_max = fileattrs.max_replication(place.path)
        return {"metadataReplicas": meta or int(attrs.get("defaultMetadataReplicas", 1) or 1),
                "maxMetadataReplicas": meta_max or int(attrs.get("maxMetadataReplicas", 2) or 2),
                "dataReplicas": data or int(attrs.get("defaultDataReplicas", 1) or 1),
                "maxDataReplicas": data_max or int(attrs.get("maxDataReplicas", 2) or 2),
                "status": 0,
                "pool": self.fd_pool(fd)}

    def winattrs(self, path: str, attrs: int | None) -> int:
        self.model.locate(path, "get_winattrs" if attrs is None else "set_winattrs")
        raise os_error(errno.ENOSYS, "Windows attributes are not emulated", path)

    def clone_paths(self, call: str, source: str | bytes, dest: str | bytes | None) -> NoReturn:
        self.model.locate(source, call)
        if dest is not None:
            self.model.locate(dest, call)
        raise os_error(errno.ENOSYS, "file clones are not emulated", os.fsdecode(source))

    def clone_file(self, call: str, path: str | bytes, *numbers: int) -> NoReturn:
        self.clone_paths(call, path, None)

    # quota -------------------------------------------------------------------------------
    def quota(self, path: str, qtype: int, ident: int) -> dict[str, int]:
        """The quota ledger's entry; the grace times are when the grace period ends (epoch
        seconds), 0 when usage is not over the soft limit."""
        place = self.model.locate(path, "get_quota")
        kind = _quota_kind(qtype)
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise os_error(errno.EINVAL, f"get_quota: id must be an int, not {ident!r}")
        ledger = QuotaLedger(self.model.root, self.model.db, place.fs)
        if kind == "FILESET" and ident not in ledger.by_id:
            raise os_error(errno.ENOENT, f"get_quota: no fileset with id {ident}")
        e = ledger.entry(kind, ident)
        row = ledger.rows.get(QuotaKey(kind, ident, ""))

        def grace_end(which: int, used: int, soft: int) -> int:
            if not soft or used <= soft:
                return 0
            since = row[("block_over_since", "files_over_since")[which]] if row else None
            return int((since if since is not None else ledger.now) + ledger.grace[kind][which])

        return {"blockUsage": e.kb, "blockHardLimit": e.block_hard,
                "blockSoftLimit": e.block_soft, "blockInDoubt": 0,
                "blockGraceTime": grace_end(0, e.kb, e.block_soft), "inodeUsage": e.files,
                "inodeHardLimit": e.files_hard, "inodeSoftLimit": e.files_soft,
                "inodeInDoubt": 0, "inodeGraceTime": grace_end(1, e.files, e.files_soft),
                "quoId": ident}

    def quota_switch(self, path: str, qtype: int, on: bool) -> None:
        place = self.model.locate(path, "quota_on" if on else "quota_off")
        word = _ENFORCED[_quota_kind(qtype)]
        with state.transaction(self.model.db, write=True) as db:
            row = db.execute("SELECT quotas_enforced FROM filesystems WHERE name = ?",
                             (place.fs["name"],)).fetchone()
            words = [w for w in (row[0] or "").split(";") if w and w != "none"]
            words = [w for w in words if w != word] + ([word] if on else [])
            order = ["user", "group", "fileset"]
            text = ";".join(sorted(words, key=order.index)) or "none"
            db.execute("UPDATE filesystems SET quotas_enforced = ? WHERE name = ?",
                       (text, place.fs["name"]))


def _quota_kind(qtype: Any) -> str:
    if isinstance(qtype, bool) or qtype not in QUOTA_TYPES:
        raise os_error(errno.EINVAL, f"quota type must be Q_USR, Q_GRP or Q_FSET, not {qtype!r}")
    return QUOTA_TYPES[qtype]


def _ino(ino: Any) -> int:
    if isinstance(ino, bool) or not isinstance(ino, int) or ino < 0:
        raise os_error(errno.EINVAL, f"inode number must be a non-negative int, not {ino!r}")
    return ino


def _find_inode(top: str, ino: int, hidden: Any) -> str | None:
    """The first path with inode ``ino`` below ``top`` (what the real library reads by
    number from the inode file; the emulator has only names)."""
    if os.lstat(top).st_ino == ino:
        return top
    stack = [top]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        hide = hidden(d)
        with it:
            for entry in it:
                if entry.name in hide:
                    continue
                if entry.inode() == ino:
                    return entry.path
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return None





def stat_of(st: os.stat_result) -> stat_result:
    return stat_result(st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid,
                       st.st_size, int(st.st_atime), int(st.st_mtime), int(st.st_ctime),
                       st.st_rdev, st.st_blksize, st.st_blocks)
