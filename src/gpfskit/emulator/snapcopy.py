"""Point-in-time copies of directory trees, for snapshots.

``copy_tree`` reproduces a tree: regular files (cloned with the ``FICLONE`` ioctl where the
host file system shares extents, so a snapshot costs no data blocks; copied otherwise),
directories, symlinks (not followed), FIFOs and device nodes, with modes, owners, times and
extended attributes; files hard-linked to each other inside the source are hard-linked to each
other inside the copy. Either way later changes to the source never show in the copy.
Sockets are skipped (they cannot be recreated meaningfully). Owners are kept when the process
may change them (root); otherwise the copy belongs to the caller.

``remove_tree`` deletes a copy even when its directories are read-only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat as statmod
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

FICLONE = 0x40049409  # _IOW(0x94, 9, int)

# Errors meaning "this file system cannot clone/copy that way": fall back for good.
_NO_CLONE = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.ENOSYS, errno.EINVAL,
             errno.EBADF, errno.EPERM}


@dataclass
class CopyStats:
    directories: int = 0
    files: int = 0
    cloned: int = 0          # regular files cloned with FICLONE
    copied: int = 0          # regular files whose bytes were copied
    links: int = 0           # hard links recreated
    other: int = 0           # symlinks, FIFOs, devices


class _Copier:
    def __init__(self, *, reflink: bool = True) -> None:
        self.reflink = reflink
        self.stats = CopyStats()
        self.linked: dict[tuple[int, int], str] = {}
        self.as_root = os.geteuid() == 0

    def copy(self, source: str, target: str, skip: Collection[str], empty: Collection[str]
             ) -> None:
        top = os.lstat(source)
        os.mkdir(target, 0o700)
        self.stats.directories += 1
        directories = [(source, target, top)]
        stack = [(source, target)]
        while stack:
            src_dir, dst_dir = stack.pop()
            with os.scandir(src_dir) as entries:
                listed = list(entries)
            for e in listed:
                src = e.path
                if src in skip:
                    continue
                dst = os.path.join(dst_dir, e.name)
                st = e.stat(follow_symlinks=False)
                mode = st.st_mode
                if statmod.S_ISDIR(mode):
                    os.mkdir(dst, 0o700)
                    self.stats.directories += 1
                    directories.append((src, dst, st))
                    if src not in empty:
                        stack.append((src, dst))
                    continue
                if statmod.S_ISREG(mode):
                    if st.st_nlink > 1:
                        ident = (st.st_dev, st.st_ino)
                        first = self.linked.get(ident)
                        if first is not None:
                            os.link(first, dst)
                            self.stats.links += 1
                            continue
                        self.linked[ident] = dst
                    self._copy_file(src, dst)
                    self.stats.files += 1
                elif statmod.S_ISLNK(mode):
                    os.symlink(os.readlink(src), dst)
                    self.stats.other += 1
                elif statmod.S_ISFIFO(mode):
                    os.mkfifo(dst, 0o600)
                    self.stats.other += 1
                elif statmod.S_ISCHR(mode) or statmod.S_ISBLK(mode):
                    try:
                        os.mknod(dst, statmod.S_IFMT(mode) | 0o600, st.st_rdev)
                    except PermissionError:
                        continue
                    self.stats.other += 1
                else:
                    continue
                self._finish(src, dst, st)
        # Directories last and deepest first: their modes may forbid adding entries, and
        # adding entries changes their times.
        for src, dst, st in reversed(directories):
            self._finish(src, dst, st)

    def _copy_file(self, src: str, dst: str) -> None:
        fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                if self.reflink:
                    try:
                        fcntl.ioctl(fd_out, FICLONE, fd_in)
                        self.stats.cloned += 1
                        return
                    except OSError as exc:
                        if exc.errno not in _NO_CLONE:
                            raise
                        self.reflink = False
                _copy_bytes(fd_in, fd_out)
                self.stats.copied += 1
            finally:
                os.close(fd_out)
        finally:
            os.close(fd_in)

    def _finish(self, src: str, dst: str, st: os.stat_result) -> None:
        is_link = statmod.S_ISLNK(st.st_mode)
        _copy_xattrs(src, dst)
        if self.as_root:
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
        if not is_link:
            os.chmod(dst, statmod.S_IMODE(st.st_mode))
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _copy_bytes(fd_in: int, fd_out: int) -> None:
    try:
        while os.copy_file_range(fd_in, fd_out, 1 << 30):
            pass
        return
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP,
                             errno.EBADF):
            raise
    os.lseek(fd_in, 0, os.SEEK_SET)
    os.lseek(fd_out, 0, os.SEEK_SET)
    os.ftruncate(fd_out, 0)
    while chunk := os.read(fd_in, 1 << 20):
        os.write(fd_out, chunk)


def _copy_xattrs(src: str, dst: str) -> None:
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False),
                        follow_symlinks=False)
        except OSError:
            continue  # e.g. security.* without privilege, user.* on a symlink


def copy_tree(source: Path, target: Path, *, skip: Collection[str] = (),
              empty: Collection[str] = (), reflink: bool = True) -> CopyStats:
    """Copy the tree at ``source`` to the new directory ``target``.

    ``skip`` holds absolute paths (as ``os.scandir`` builds them under ``source``) left out
    of the copy; ``empty`` holds directories copied without their contents. On any error the
    partial copy is removed and the error re-raised.
    """
    copier = _Copier(reflink=reflink)
    try:
        copier.copy(str(source), str(target), set(skip), set(empty))
    except BaseException:
        remove_tree(target)
        raise
    return copier.stats


def _make_writable(path: Path) -> None:
    for directory, subdirs, _ in os.walk(path):
        for name in subdirs:
            sub = os.path.join(directory, name)
            with contextlib.suppress(OSError):
                if not os.path.islink(sub):
                    os.chmod(sub, 0o700)


def remove_tree(path: Path) -> None:
    """Delete ``path`` and everything under it; missing is fine."""
    if not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        if os.geteuid() != 0:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            _make_writable(path)
        shutil.rmtree(path)
    else:
        os.unlink(path)


@contextlib.contextmanager
def writable(directory: Path) -> Iterator[None]:
    """Let the owner add or remove entries in ``directory`` for a moment (e.g. ``.snapshots``)."""
    mode = statmod.S_IMODE(os.stat(directory).st_mode)
    if mode & 0o200:
        yield
        return
    os.chmod(directory, mode | 0o700)
    try:
        yield
    finally:
        if os.path.isdir(directory):
            os.chmod(directory, mode)
