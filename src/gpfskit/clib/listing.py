"""Directory listings in C: one call lists a directory and stats every entry.

``utils.walk``, ``utils.scandir`` and ``utils.listdir`` list through the policy scanner's
lister (``gpfskit.emulator.scan._walk``): ``list_ahead`` queues a directory for the
extension's own threads, which list it (getdents64 + statx relative to the directory fd)
without ever holding the GIL, and the caller's ``result`` builds the names, ready-made
``stat_result`` records and the path-to-record map in C. Where the extension is not built,
the pure-Python twin of ``list_dirs`` lists on the spot (NumPy is only needed then).

A listing also keeps the attributes it read for the entries of the directory handed out last
(``recent``): ``stat.lstatlite`` / ``statlite`` answer from them when no exact field is asked
for, which is the stat-lite contract (fields outside the litemask may be stale).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import NamedTuple, Protocol

from gpfskit.clib.types import stat_result
from gpfskit.emulator.scan.walk import (
    KIND_DIR,
    KIND_FILE,
    KIND_LINK,
    KIND_OTHER,
    WANT_ALL_KINDS,
    WANT_NAMES,
)

try:
    from gpfskit.emulator.scan._walk import list_ahead as _list_ahead  # type: ignore[import]
except ImportError:  # the extension is not built
    _list_ahead = None

__all__ = ["KIND_DIR", "KIND_FILE", "KIND_LINK", "KIND_OTHER", "Listing", "cached_stat",
           "list_dir", "recent", "remember", "walk"]

_FLAGS = WANT_ALL_KINDS | WANT_NAMES
_INT_COLUMNS = ("mode", "ino", "dev", "nlink", "uid", "gid", "size")
_TIME_COLUMNS = ("atime", "mtime", "ctime")
_TAIL_COLUMNS = ("rdev", "blksize", "kb")
_COLUMNS = list(_INT_COLUMNS + _TIME_COLUMNS + _TAIL_COLUMNS)
_ALL_ROWS = 1 << 40

_AHEAD = 16

#: path -> stat_result of the entries of the directory handed out last (replaced, not
#: changed, by each listing: read it as ``listing.recent``).
recent: dict[str, stat_result] = {}

_Result = tuple[list[str], Sequence[int], list[stat_result], dict[str, stat_result], list[str],
                list[str]]


class Listing(NamedTuple):
    """One directory's entries, in listing order."""

    names: list[str]
    kinds: Sequence[int]              # KIND_* per entry
    stats: list[stat_result]
    paths: dict[str, stat_result]     # the directory's path + "/" + name -> its stats
    dirs: list[str]                   # the names of the subdirectories (links not followed)
    others: list[str]                 # every other name


class _Pending(Protocol):
    def result(self, stat_type: type[stat_result], prefix: bytes, /) -> _Result: ...


class _OnTheSpot:
    """A listing made when asked for, by the lister's pure-Python twin."""

    def __init__(self, path: str, hide: Collection[str]) -> None:
        self.path, self.hide = path, hide

    def result(self, stat_type: type[stat_result], prefix: bytes) -> _Result:
        import numpy as np

        from gpfskit.emulator.scan import _pywalk

        hide: list[tuple[bytes, ...] | None] | None = (
            [tuple(os.fsencode(h) for h in self.hide)] if self.hide else None)
        result = _pywalk.list_dirs(os.fsencode(self.path), b"", [b""], [0], hide, _ALL_ROWS,
                                   _FLAGS, [], _COLUMNS)
        for _, err, op in result["errors"]:
            if op == "o" or op == "r":
                raise OSError(err, os.strerror(err), self.path)
        n = result["n"]
        cols = result["columns"]
        blob = bytes(cols["names"])
        offsets = np.frombuffer(cols["name_offsets"], np.int32, n + 1).tolist()
        raw = [blob[a:b] for a, b in itertools.pairwise(offsets)]
        names = [os.fsdecode(name) for name in raw]
        ints = [np.frombuffer(cols[c], np.int64, n).tolist() for c in _INT_COLUMNS]
        times = [np.frombuffer(cols[c], np.float64, n).astype(np.int64).tolist()
                 for c in _TIME_COLUMNS]
        rdev, blksize, kb = (np.frombuffer(cols[c], np.int64, n) for c in _TAIL_COLUMNS)
        stats = list(map(stat_type._make, zip(*ints, *times, rdev.tolist(), blksize.tolist(),
                                              (kb * 2).tolist())))
        kinds = np.frombuffer(cols["kind"], np.uint8, n).tolist()
        paths = dict(zip([os.fsdecode(prefix + name) for name in raw], stats))
        dirs = [name for name, kind in zip(names, kinds) if kind == KIND_DIR]
        others = [name for name, kind in zip(names, kinds) if kind != KIND_DIR]
        return names, kinds, stats, paths, dirs, others


def _submit(path: str, hide: Collection[str]) -> _Pending:
    """Start listing directory ``path`` (without the names in ``hide``)."""
    if _list_ahead is None:
        return _OnTheSpot(path, hide)
    pending: _Pending = _list_ahead(os.fsencode(path), tuple(os.fsencode(h) for h in hide))
    return pending


def _take(pending: _Pending, path: str) -> Listing:
    """The listing of directory ``path`` once it is ready."""
    prefix = path if path.endswith("/") else path + "/"
    return Listing._make(pending.result(stat_result, os.fsencode(prefix)))


def list_dir(path: str, hide: Collection[str] = ()) -> Listing:
    """The entries of directory ``path`` (without ``.``/``..`` and the names in ``hide``)."""
    return _take(_submit(path, hide), path)


def remember(listing: Listing) -> None:
    """Keep ``listing``'s attributes for ``stat.lstatlite`` (replacing the previous ones)."""
    global recent
    recent = listing.paths


def cached_stat(path: str) -> stat_result | None:
    return recent.get(path)


def walk(top: str, topdown: bool = True, onerror: Callable[[OSError], None] | None = None,
         followlinks: bool = False, hidden: Callable[[str], Collection[str]] = lambda _: ()
         ) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` over the C lister. ``hidden(dirpath)`` names entries the file system
    does not show there (``.snapshots``).

    While the caller works on one directory, the extension's thread lists the next ones (up
    to ``_AHEAD`` siblings, once a top-down caller has pruned ``dirs``) without the GIL, so
    listing and the caller's work overlap.
    """
    return _walk(top, _submit(top, hidden(top)), topdown, onerror, followlinks, hidden)


def _walk(top: str, pending: _Pending, topdown: bool,
          onerror: Callable[[OSError], None] | None, followlinks: bool,
          hidden: Callable[[str], Collection[str]]
          ) -> Iterator[tuple[str, list[str], list[str]]]:
    try:
        listing = _take(pending, top)
    except OSError as exc:
        if onerror is not None:
            onerror(exc)
        return
    dirs, files = listing.dirs, listing.others
    links: set[str] = set()
    if KIND_LINK in listing.kinds:   # links to directories go with the directories
        dirs, files = [], []
        for name, kind in zip(listing.names, listing.kinds, strict=True):
            if kind == KIND_DIR:
                dirs.append(name)
            elif kind == KIND_LINK and os.path.isdir(os.path.join(top, name)):
                dirs.append(name)
                links.add(name)
            else:
                files.append(name)
    listed: Collection[str] = ()
    if topdown:
        listed = set(dirs)
        remember(listing)
        yield top, dirs, files
    below = iter([os.path.join(top, name) for name in dirs
                  if followlinks or not (name in links or (
                      topdown and name not in listed and name not in listing.names
                      and os.path.islink(os.path.join(top, name))))])
    ahead: deque[tuple[str, _Pending]] = deque()
    while True:
        while len(ahead) < _AHEAD:
            path = next(below, None)
            if path is None:
                break
            ahead.append((path, _submit(path, hidden(path))))
        if not ahead:
            break
        path, pending_below = ahead.popleft()
        yield from _walk(path, pending_below, topdown, onerror, followlinks, hidden)
    if not topdown:
        remember(listing)
        yield top, dirs, files
