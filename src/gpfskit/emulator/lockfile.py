"""The cluster's command lock file, ``<root>/state.lock``: the lock, and the intent it holds.

Changing commands hold an ``flock`` on it for their whole run (``CommandLock``); the kernel
releases it when the process dies, however it dies, so a lock that can be taken tells that
its last holder is done or dead. Its first page carries what the journal (journal.py) needs
to know about that holder:

- from byte 0, the holder's **intent**: one line (a Python literal, ending in ``\\n``); a
  ``\\n`` or NUL at byte 0 means none. What follows the line is ignored, so a shorter line is
  written over a longer one without truncating;
- at byte ``LOCK_PAGE - 1``, the **jobs mark**: not NUL when a job that runs without the lock
  (``mmapplypolicy``) may have left its intent in the state database's ``intents`` table, so
  that other commands look there only then. An intent longer than the page runs over it; its
  bytes are never NUL, so the mark then reads as set, and it is left alone until that intent
  is cleared.

While a command holds the lock, the page is mapped into its memory: reading and writing the
intent there takes no system call, and the stores land in the page cache just as a
``pwrite`` would, outliving the process. An intent is written once, behind a ``\\n`` at byte
0, and published by storing its first byte last, so a kill halfway leaves no intent rather
than a torn one. Outside the lock the file is read with ``pread``: a file another process
might have shortened is never touched through a mapping. The page is written out in full
when the file is made (not left sparse), so a store into it never needs a new block: on a
full disk that would be a SIGBUS rather than an error.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import threading
import time

LOCK_NAME = "state.lock"
LOCK_WAIT = 120.0          # seconds a changing command waits for the command lock
LOCK_PAGE = 4096           # the mapped first page; the jobs mark is its last byte
_JOBS = LOCK_PAGE - 1
_NO_INTENT = (0, 10)       # byte 0 of a page with no intent: NUL (never written) or b"\n"

_local = threading.local()
_maps: dict[int, mmap.mmap] = {}   # descriptor -> its first page, mapped once
_held: dict[int, mmap.mmap] = {}   # the pages of the descriptors whose lock is held


class Busy(Exception):
    """The command lock stayed taken for longer than the command would wait."""


def lock_file(root: str | os.PathLike[str]) -> int:
    """This thread's descriptor of the cluster's command lock file (opened once, then
    reused). Each thread has its own: flock excludes open files, not processes, so threads
    of one process exclude each other too."""
    cache = getattr(_local, "locks", None)
    if cache is None:
        cache = _local.locks = {}
    key = os.fspath(root)
    fd = cache.get(key)
    if fd is None:   # one descriptor for every spelling of the root: keyed by its path too
        path = os.path.normpath(os.path.join(key, LOCK_NAME))
        fd = cache.get(path)
        if fd is None:
            fd = cache[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        cache[key] = fd
    return fd


def create(path: str | os.PathLike[str]) -> None:
    """A new lock file, a page long (the mark at its end NUL: no job has run)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        _pwrite_all(fd, b"\n" + bytes(LOCK_PAGE - 1), 0)
    finally:
        os.close(fd)


def forget() -> None:
    """Close this thread's lock files (tests that delete roots call this)."""
    for fd in set(getattr(_local, "locks", {}).values()):
        _held.pop(fd, None)
        page = _maps.pop(fd, None)
        if page is not None:
            page.close()
        os.close(fd)
    _local.locks = {}


def _forget_in_child() -> None:
    """A forked child opens lock files of its own: an ``flock`` belongs to the open file,
    which it would share with its parent. (The inherited descriptors are left open.)"""
    _local.locks = {}
    _maps.clear()
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def try_lock(fd: int) -> bool:
    """Take the ``flock`` on ``fd`` if it is free; False if another open file holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


class CommandLock:
    """``with CommandLock(root) as fd``: hold the cluster's command lock, giving the lock
    file's descriptor; ``Busy`` when it stays taken for ``wait`` seconds (default
    ``LOCK_WAIT``; 0: do not wait). A thread that holds it already holds it on (an inner
    ``with`` neither takes nor releases it). A class rather than a generator: every changing
    command takes it."""

    __slots__ = ("fd", "inner", "root", "wait")

    def __init__(self, root: str | os.PathLike[str], *, wait: float | None = None) -> None:
        self.root = root
        self.wait = LOCK_WAIT if wait is None else wait
        self.fd = -1
        self.inner = False

    def __enter__(self) -> int:
        fd = self.fd = lock_file(self.root)
        if fd in _held:
            self.inner = True
            return fd
        if not try_lock(fd):
            deadline = time.monotonic() + self.wait
            pause = 0.001
            while not try_lock(fd):
                if time.monotonic() >= deadline:
                    raise Busy(f"another command has held the cluster's lock "
                               f"({os.path.join(self.root, LOCK_NAME)}) for more than "
                               f"{self.wait:.0f} seconds")
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        try:
            _hold(fd)
        except BaseException:
            fcntl.flock(fd, fcntl.LOCK_UN)
            raise
        return fd

    def __exit__(self, *exc_info: object) -> None:
        if self.inner:
            return
        _held.pop(self.fd, None)
        fcntl.flock(self.fd, fcntl.LOCK_UN)


def _hold(fd: int) -> None:
    """Under the lock: map the first page, after checking that the file still covers it (a
    page beyond the end of a file cannot be touched). A file shorter than a page (made by an
    older gpfskit, or cut short by hand) is first lengthened, beyond its end, so nothing in
    it is overwritten; its jobs mark is set, since nothing tells whether a job left an
    intent."""
    size = os.fstat(fd).st_size
    if size < LOCK_PAGE:
        _pwrite_all(fd, bytes(_JOBS - size) + b"\x01", size)
    page = _maps.get(fd)
    if page is None:
        page = _maps[fd] = mmap.mmap(fd, LOCK_PAGE)
    _held[fd] = page


def _pread_head(fd: int) -> bytes:
    data = b""
    while True:
        chunk = os.pread(fd, LOCK_PAGE, len(data))
        data += chunk
        if b"\n" in chunk or len(chunk) < LOCK_PAGE:
            return data


def read_intent(fd: int) -> bytes:
    """The intent line in the lock file (without its ``\\n``); empty when there is none."""
    page = _held.get(fd)
    if page is not None:
        if page[0] in _NO_INTENT:
            return b""
        end = page.find(b"\n")
        if end >= 0:
            return page[:end]
    line = _pread_head(fd).partition(b"\n")[0]
    return b"" if line[:1] == b"\0" else line


def write_intent(fd: int, record: bytes) -> None:
    """Write ``record`` (one line) as the intent, where none stands; empty: clear it. Under
    the lock."""
    page = _held_page(fd)
    if not record:
        page[0] = 10                      # one byte: an intent is never half cleared
    elif page[0] in _NO_INTENT:           # its body first, its first byte last
        data = record + b"\n"
        if len(data) <= _JOBS:
            page[1:len(data)] = data[1:]
        else:                             # a long one runs over the jobs mark (see above)
            _pwrite_all(fd, data[1:], 1)
        page[0] = data[0]
    else:
        raise RuntimeError("an intent is written once, where none stands")


def _held_page(fd: int) -> mmap.mmap:
    page = _held.get(fd)
    if page is None:
        raise RuntimeError("the lock file's page is changed under the command lock only")
    return page


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    written = os.pwrite(fd, data, offset)
    while written < len(data):
        written += os.pwrite(fd, data[written:], offset + written)


def peek(fd: int) -> tuple[bool, bool]:
    """Whether an intent stands in the lock file, and whether its jobs mark is set (the
    ``intents`` table is then worth a look): from the mapped page, or one read."""
    page = _held.get(fd)
    if page is not None:
        return page[0] not in _NO_INTENT, page[_JOBS] != 0
    head = os.pread(fd, LOCK_PAGE, 0)
    return (bool(head) and head[0] not in _NO_INTENT,
            len(head) < LOCK_PAGE or head[_JOBS] != 0)   # a short file may hide a job's


def mark_jobs(fd: int, marked: bool) -> None:
    """Set the jobs mark (a job is starting), or clear it (the ``intents`` table is empty, as
    committed); under the lock. Not while an intent that runs over the mark stands."""
    page = _held_page(fd)
    if page[0] not in _NO_INTENT and page.find(b"\n", 0, _JOBS) < 0:
        return                            # the intent's own byte there reads as set
    page[_JOBS] = 1 if marked else 0
