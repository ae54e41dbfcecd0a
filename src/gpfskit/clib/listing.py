"""Directory listings in C: one call lists a directory and stats every entry.

``utils.walk``, ``utils.scandir`` and ``utils.listdir`` list through the policy scanner's
lister (``gpfskit.emulator.scan._walk.list_dirs``: getdents64 + statx relative to the
directory fd, GIL released; its pure-Python twin where the extension is not built). A
listing also keeps the attributes it read for the entries of the directory handed out last
(``recent``): ``stat.lstatlite`` / ``statlite`` answer from them when no exact field is
asked for, which is the stat-lite contract (fields outside the litemask may be stale).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from gpfskit.clib.types import stat_result
from gpfskit.emulator.scan import _pywalk

try:
    from gpfskit.emulator.scan._walk import list_dirs as _list_dirs  # type: ignore[import]
except ImportError:  # the extension is not built
    _list_dirs = _pywalk.list_dirs

_FLAGS = _pywalk.WANT_ALL_KINDS | _pywalk.WANT_NAMES
_INT_COLUMNS = ("mode", "ino", "dev", "nlink", "uid", "gid", "size")
_TIME_COLUMNS = ("atime", "mtime", "ctime")
_TAIL_COLUMNS = ("rdev", "blksize", "kb")
_COLUMNS = list(_INT_COLUMNS + _TIME_COLUMNS + _TAIL_COLUMNS)
_ALL_ROWS = 1 << 40
KIND_FILE, KIND_DIR, KIND_LINK, KIND_OTHER = (_pywalk.KIND_FILE, _pywalk.KIND_DIR,
                                              _pywalk.KIND_LINK, _pywalk.KIND_OTHER)

_WORKERS = 1
_AHEAD = 16
_pool: ThreadPoolExecutor | None = None

#: path -> stat_result fields of the entries of the directory listed last.
recent: dict[str, tuple[int, ...]] = {}


class Listing(NamedTuple):
    names: list[str]
    kinds: list[int]
    stats: list[tuple[int, ...]]   # stat_result fields, in order


def list_dir(path: str, hide: Collection[str] = ()) -> Listing:
    """The entries of directory ``path`` (without ``.``/``..`` and the names in ``hide``)."""
    root = os.fsencode(path)
    result = _list_dirs(root, b"", [b""], [0], [tuple(os.fsencode(h) for h in hide)]
                        if hide else None, _ALL_ROWS, _FLAGS, [], _COLUMNS)
    for _, err, op in result["errors"]:
        if op == "o" or op == "r":
            raise OSError(err, os.strerror(err), path)
    n = result["n"]
    cols = result["columns"]
    blob = bytes(cols["names"])
    offsets = np.frombuffer(cols["name_offsets"], np.int32, n + 1).tolist()
    if blob.isascii():
        text = blob.decode("ascii")
        names = [text[a:b] for a, b in itertools.pairwise(offsets)]
    else:
        names = [os.fsdecode(blob[a:b]) for a, b in itertools.pairwise(offsets)]
    ints = [np.frombuffer(cols[c], np.int64, n).tolist() for c in _INT_COLUMNS]
    times = [np.frombuffer(cols[c], np.float64, n).astype(np.int64).tolist()
             for c in _TIME_COLUMNS]
    rdev, blksize, kb = (np.frombuffer(cols[c], np.int64, n) for c in _TAIL_COLUMNS)
    stats = list(zip(*ints, *times, rdev.tolist(), blksize.tolist(), (kb * 2).tolist()))
    kinds = np.frombuffer(cols["kind"], np.uint8, n).tolist()
    return Listing(names, kinds, stats)


def remember(base: str, listing: Listing) -> None:
    """Keep ``listing``'s attributes for ``stat.lstatlite`` (replacing the previous ones)."""
    prefix = base if base.endswith("/") else base + "/"
    recent.clear()
    recent.update(zip([prefix + name for name in listing.names], listing.stats))


def cached_stat(path: str) -> stat_result | None:
    fields = recent.get(path)
    return None if fields is None else stat_result._make(fields)


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="gpfskit-walk")
    return _pool


def walk(top: str, topdown: bool = True, onerror: Callable[[OSError], None] | None = None,
         followlinks: bool = False, hidden: Callable[[str], Collection[str]] = lambda _: ()
         ) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` over the C lister. ``hidden(dirpath)`` names entries the file system
    does not show there (``.snapshots``).

    While the caller works on one directory, a thread lists the next ones (up to
    ``_AHEAD`` siblings, once a top-down caller has pruned ``dirs``); the lister releases
    the GIL for its system calls, so listing and the caller's work overlap.
    """
    submit = _executor().submit
    return _walk(top, submit(list_dir, top, hidden(top)), submit, topdown, onerror,
                 followlinks, hidden)


def _walk(top: str, pending: Future[Listing], submit: Callable[..., Future[Listing]],
          topdown: bool, onerror: Callable[[OSError], None] | None, followlinks: bool,
          hidden: Callable[[str], Collection[str]]
          ) -> Iterator[tuple[str, list[str], list[str]]]:
    try:
        listing = pending.result()
    except OSError as exc:
        if onerror is not None:
            onerror(exc)
        return
    dirs, files, links = [], [], set()
    for name, kind in zip(listing.names, listing.kinds, strict=True):
        if kind == KIND_DIR:
            dirs.append(name)
        elif kind == KIND_LINK and os.path.isdir(os.path.join(top, name)):
            dirs.append(name)
            links.add(name)
        else:
            files.append(name)
    if topdown:
        remember(top, listing)
        yield top, dirs, files
    known = set(listing.names) if topdown else ()
    below = iter([os.path.join(top, name) for name in dirs
                  if followlinks or not (name in links or (
                      topdown and name not in known and os.path.islink(os.path.join(top, name))))])
    ahead: deque[tuple[str, Future[Listing]]] = deque()
    while True:
        while len(ahead) < _AHEAD:
            path = next(below, None)
            if path is None:
                break
            ahead.append((path, submit(list_dir, path, hidden(path))))
        if not ahead:
            break
        path, future = ahead.popleft()
        yield from _walk(path, future, submit, topdown, onerror, followlinks, hidden)
    if not topdown:
        remember(top, listing)
        yield top, dirs, files
