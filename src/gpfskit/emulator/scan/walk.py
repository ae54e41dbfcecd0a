"""The parallel directory walk behind the scan, without NumPy or pyarrow.

``Walk`` holds what ``scanner.Scan`` describes under "How it runs": the shared frontier of
directories, the lister threads (``_walk.list_dirs`` in C, with the GIL released, or the
pure-Python twin ``_pywalk``), the counts, and the prefilter checks. What each lister call
becomes is the subclass's business (``convert``): ``Scan`` turns it into an Arrow
RecordBatch, the direct list writer of ``mmapplypolicy`` writes file-list records from the
lister's buffers as they are. So a scan that only lists files needs neither NumPy nor
pyarrow.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # NumPy and pyarrow: only scans that keep a memo load them
    from gpfskit.emulator.scan.memo import ListerMemo, XattrMemo

try:
    from gpfskit.emulator.scan import _walk  # type: ignore[attr-defined]
except ImportError:  # the extension was not built: the pure-Python lister stands in
    _walk = None

#: True when the C lister is available.
HAVE_C_EXTENSION = _walk is not None
SNAPSHOTS_DIR = ".snapshots"

# Lister flags and limits (as in _walk.c).
WANT_ALL_KINDS = 1
WANT_NAMES = 2
WANT_MODE = 4
WANT_MISC = 8
NO_PATHS = 16
KIND_FILE, KIND_DIR, KIND_LINK, KIND_OTHER = 0, 1, 2, 3   # entry kinds (the KIND column)
MAX_XATTRS = 16
MAX_PREFILTER_CONJUNCTIONS = 32
MAX_PREFILTER_TERMS = 64

ProgressHook = Callable[[int, int, int], None]
#: Conjunctions of (attribute, operator, constant) comparisons (see ``scanner.Scan``).
Prefilter = Sequence[Sequence[tuple[str, str, int | float]]]

#: Policy attributes that are a lister buffer as they are, with the buffer's name.
DIRECT_COLUMNS = {
    "INODE": "ino",
    "GENERATION": "gen",
    "FILE_SIZE": "size",
    "KB_ALLOCATED": "kb",
    "USER_ID": "uid",
    "GROUP_ID": "gid",
    "NLINK": "nlink",
    "DEVICE_ID": "dev",
    "RDEVICE_ID": "rdev",
    "BLOCKSIZE": "blksize",
    "ACCESS_TIME": "atime",
    "MODIFICATION_TIME": "mtime",
    "CHANGE_TIME": "ctime",
    "CREATION_TIME": "btime",
    "KIND": "kind",
    "MODE_BITS": "mode",
    "FLAG_BITS": "flags",
}
#: Buffers every lister call writes, whatever columns are asked for.
_ALWAYS_LISTED = frozenset({"kind", "flags"})

#: Attributes a scan prefilter can compare, with the lister column each reads.
PREFILTER_ATTRIBUTES: dict[str, str] = {
    k: v for k, v in DIRECT_COLUMNS.items() if k not in ("KIND", "MODE_BITS", "FLAG_BITS")}


def lister_columns(names: Iterable[str]) -> list[str]:
    """The lister's numeric columns (``_walk.list_dirs`` ``columns``) that ``names`` need."""
    raw = {DIRECT_COLUMNS[n] for n in names if n in DIRECT_COLUMNS} - _ALWAYS_LISTED
    if "USER_NAME" in names:
        raw.add("uid")
    if "GROUP_NAME" in names:
        raw.add("gid")
    return sorted(raw)


@dataclass(frozen=True)
class ScanError:
    """A path the scan could not read: ``op`` is 'open', 'read', 'seek' or 'stat'."""

    path: bytes
    errno: int
    op: str

    def __str__(self) -> str:
        return f"{self.op} {os.fsdecode(self.path)}: {os.strerror(self.errno)}"


@dataclass
class ScanStats:
    """Counts for the ``Directories scan: ...`` line and the progress hook."""

    files: int = 0
    directories: int = 0
    others: int = 0
    errors: int = 0
    skipped: int = 0
    remembered: int = 0     # entries whose xattrs came from the memo, not a read
    rows: int = 0
    batches: int = 0
    elapsed: float = 0.0
    error_samples: list[ScanError] = field(default_factory=list)

    @property
    def objects(self) -> int:
        return self.files + self.directories + self.others

    @property
    def problems(self) -> int:
        """Skipped directories plus errors (mmapplypolicy's "'skipped' files and/or errors")."""
        return self.errors + self.skipped


#: Lister error codes -> the operation that failed (ScanError.op).
ERROR_OPERATIONS = {"o": "open", "r": "read", "s": "seek", "t": "stat"}
_MAX_ERROR_SAMPLES = 1000
_DONE = object()


def _rel(path: str) -> str:
    normal = os.path.normpath(path.strip("/")) if path.strip("/") else ""
    return "" if normal == "." else normal


def subtree_junctions(junctions: Mapping[str, str], subdir: str) -> dict[str, str]:
    """``junctions`` (relative to a file system root) as seen from ``subdir`` of it.

    For scanning a subtree (``mmapplypolicy Directory``) or a fileset snapshot: '' maps to
    the fileset that contains ``subdir``, deeper junctions are made relative to it.
    """
    sub = _rel(subdir)
    out: dict[str, str] = {}
    best = -1
    for junction, name in junctions.items():
        j = _rel(junction)
        if j == sub or j == "" or sub.startswith(j + "/"):
            depth = len(j)
            if depth > best:
                best = depth
                out[""] = name
        elif sub == "" or j.startswith(sub + "/"):
            out[j[len(sub) + 1:] if sub else j] = name
    return out


class Walk:
    """A parallel walk of ``tree``: iterating it yields ``convert(result, items, fixes)`` for
    each lister call that made rows (``result`` as ``_walk.list_dirs`` returns it, ``items``
    the (directory, fileset index, start) it listed, ``fixes`` (row, fileset index) for rows
    that are junctions themselves). ``convert`` runs in the lister threads.

    The parameters are ``scanner.Scan``'s, in the lister's terms: ``flags`` (``WANT_*``),
    ``xattr_names`` (attribute names, bytes), ``numeric`` (``lister_columns``).
    ``fileset_names`` lists the filesets by index.
    """

    def __init__(
        self,
        tree: str | os.PathLike[str],
        *,
        convert: Callable[[dict[str, Any], list[tuple[bytes, int, Any]],
                           list[tuple[int, int]]], Any],
        visible_root: str | os.PathLike[str] | None = None,
        junctions: Mapping[str, str] | None = None,
        independent: Collection[str] = (),
        flags: int = 0,
        xattr_names: Sequence[bytes] = (),
        numeric: Sequence[str] | None = None,
        batch_rows: int = 65536,
        workers: int | None = None,
        skip_dirs: Collection[str] = (),
        max_depth: int | None = None,
        prefilter: Prefilter | None = None,
        memo: XattrMemo | None = None,
        progress: ProgressHook | None = None,
        progress_interval: float = 0.5,
        implementation: str = "auto",
    ):
        self.tree = os.fsencode(os.path.abspath(os.fspath(tree)))
        self.memo = memo
        self._memo_arg: ListerMemo | None = None
        self.visible_root = os.fsencode(os.fspath(visible_root if visible_root is not None
                                                  else os.fsdecode(self.tree)))
        self.batch_rows = max(1, int(batch_rows))
        self.progress = progress
        self.progress_interval = progress_interval
        self.max_depth = max_depth
        self.stats = ScanStats()
        self._convert = convert
        self._started = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

        if implementation not in ("auto", "c", "python"):
            raise ValueError(f"implementation must be 'auto', 'c' or 'python': {implementation!r}")
        if implementation == "c" and _walk is None:
            raise RuntimeError("the C scanner (gpfskit.emulator.scan._walk) is not built")
        self.implementation = "python" if implementation == "python" or _walk is None else "c"
        if self.implementation == "c":
            self._list_dirs = _walk.list_dirs
        else:
            from gpfskit.emulator.scan import _pywalk  # NumPy: only for the Python lister

            self._list_dirs = _pywalk.list_dirs
        if workers is None:  # the Python lister holds the GIL: a second thread only slows it
            workers = 2 if self.implementation == "c" else 1
        self.workers = max(1, int(workers))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=self.workers)
        if len(xattr_names) > MAX_XATTRS:
            raise ValueError(f"at most {MAX_XATTRS} extended attributes per scan")
        self._flags = flags
        self._xattr_names = list(xattr_names)
        self._numeric = numeric
        self._prefilter = None if prefilter is None else _lister_prefilter(prefilter)

        # filesets: the deepest junction above each directory
        junctions = {"": "root"} if junctions is None else dict(junctions)
        self.fileset_names = sorted(set(junctions.values()))
        index = {name: i for i, name in enumerate(self.fileset_names)}
        self._junctions = {os.fsencode(_rel(j)): index[name] for j, name in junctions.items()}
        self._root_fileset = self._junctions.get(b"", -1)

        # hidden names, per directory relative to the tree
        hidden: dict[bytes, set[bytes]] = {b"": {SNAPSHOTS_DIR.encode()}}
        for junction in independent:
            hidden.setdefault(os.fsencode(_rel(junction)), set()).add(SNAPSHOTS_DIR.encode())
        for path in skip_dirs:
            parent, _, name = os.fsencode(_rel(path)).rpartition(b"/")
            if name:
                hidden.setdefault(parent, set()).add(name)
        self._hidden = {k: tuple(sorted(v)) for k, v in hidden.items()}

        # shared walk state
        self._cond = threading.Condition()
        self._frontier: list[tuple[bytes, int, Any]] = []
        self._busy = 0
        self._entries_seen = 0
        self._dirs_seen = 0

    # ------------------------------------------------------------------ public

    def __iter__(self) -> Iterator[Any]:
        self._begin()
        return self._items()

    def close(self) -> None:
        """Stop the workers (also done when iteration ends or is abandoned)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        while any(t.is_alive() for t in self._threads):
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            for t in self._threads:
                t.join(timeout=0.05)
        self._frontier.clear()

    # ------------------------------------------------------------------ walk

    def _begin(self) -> None:
        if self._started:
            raise RuntimeError("a scan can be iterated only once")
        self._started = True
        self._start = time.monotonic()
        tree = os.fsdecode(self.tree)
        if not os.path.isdir(tree):
            raise NotADirectoryError(f"not a directory: {tree}")
        self.stats.directories += 1  # the root itself
        if self.memo is not None:
            self._memo_arg = self.memo.begin(tree)
        self._frontier.append((b"", self._root_fileset, 0))

    def _items(self) -> Iterator[Any]:
        """What the workers made, in the order they made it; progress reports on the way."""
        self._threads = [
            threading.Thread(target=self._worker, name=f"gpfskit-scan-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in self._threads:
            t.start()
        finished = 0
        next_report = time.monotonic() + self.progress_interval
        try:
            while finished < self.workers:
                timeout = max(0.0, next_report - time.monotonic()) if self.progress else None
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    item = None
                if self.progress and time.monotonic() >= next_report:
                    self._report()
                    next_report = time.monotonic() + self.progress_interval
                if item is None:
                    continue
                if item is _DONE:
                    finished += 1
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
            self.stats.elapsed = time.monotonic() - self._start
            if self.progress:
                self._report()
        finally:
            self.stats.elapsed = time.monotonic() - self._start
            self.close()

    def _report(self) -> None:
        with self._cond:
            s = self.stats
            files, dirs, problems = s.files, s.directories, s.problems
        assert self.progress is not None
        self.progress(files, dirs, problems)

    def _take(self) -> list[tuple[bytes, int, Any]] | None:
        """The next share of the frontier for one worker, or None when the walk is over."""
        with self._cond:
            while not self._frontier and self._busy and not self._stop.is_set():
                self._cond.wait()
            if self._stop.is_set() or not self._frontier:
                self._cond.notify_all()
                return None
            # enough directories to fill about one batch, from the entries per directory so
            # far (entries, not rows: with a prefilter most entries make no row)
            per_dir = self._entries_seen / self._dirs_seen if self._dirs_seen else 1.0
            fill = max(1, math.ceil(self.batch_rows / max(per_dir, 1.0)))
            # an even split of the frontier, but (once the estimate means something) not so
            # small that the calls get tiny near the end of a subtree
            floor = fill // 8 if self._dirs_seen >= 64 else 1
            share = max(math.ceil(len(self._frontier) / self.workers), floor)
            k = min(fill, share)
            items = self._frontier[-k:]
            del self._frontier[-k:]
            self._busy += 1
            return items

    def _worker(self) -> None:
        try:
            while True:
                items = self._take()
                if items is None:
                    break
                try:
                    batch = self._list(items)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()
                if batch is not None:
                    self._put(batch)
        except BaseException as exc:
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            self._put(exc)
        self._put(_DONE)

    def _put(self, item: Any) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if self._stop.is_set() and item is not _DONE and not isinstance(
                    item, BaseException
                ):
                    return

    def _list(self, items: list[tuple[bytes, int, Any]]) -> Any:
        """List one share of the frontier; push what it found; convert its rows."""
        dirs = [item[0] for item in items]
        starts = [item[2] for item in items]
        hide = None
        if self._hidden:
            hide = [self._hidden.get(d) for d in dirs]
            if not any(hide):
                hide = None
        result = self._list_dirs(self.tree, self.visible_root, dirs, starts, hide,
                                 self.batch_rows, self._flags, self._xattr_names,
                                 self._numeric, self._prefilter, self._memo_arg)
        if self.memo is not None:
            self.memo.listed(result, dirs)
        # the walk frontier: new subdirectories, then what this call left over
        junctions = self._junctions
        new: list[tuple[bytes, int, Any]] = []
        fixes: list[tuple[int, int]] = []
        max_depth = self.max_depth
        for rel, parent, row in result["subdirs"]:
            if max_depth is not None and rel.count(b"/") >= max_depth:
                continue  # listed as an entry, not descended into
            j = junctions.get(rel)
            if j is None:
                new.append((rel, items[parent][1], 0))
            else:
                new.append((rel, j, 0))
                if row >= 0:
                    fixes.append((row, j))
        consumed = result["consumed"]
        leftover = items[consumed:]
        if result["resume"]:
            rel, fileset, _ = leftover[0]
            leftover[0] = (rel, fileset, result["resume"])
        n = result["n"]
        files, dirs_found, others, errors, skipped = result["counts"]
        with self._cond:
            self._frontier.extend(new)
            self._frontier.extend(reversed(leftover))
            self._entries_seen += files + dirs_found + others
            self._dirs_seen += consumed
            s = self.stats
            s.files += files
            s.directories += dirs_found
            s.others += others
            s.errors += errors
            s.skipped += skipped
            s.remembered += result["remembered"]
            for path, err, op in result["errors"]:
                if len(s.error_samples) < _MAX_ERROR_SAMPLES:
                    s.error_samples.append(ScanError(self._visible(path), err,
                                                     ERROR_OPERATIONS.get(op, op)))
            self._cond.notify_all()
        if n == 0:
            return None
        return self._convert(result, items, fixes)

    def _visible(self, rel: bytes) -> bytes:
        if rel.startswith(b"/"):  # already absolute (the tree root itself)
            return rel
        base = self.visible_root.rstrip(b"/")
        return base + b"/" + rel if rel else (base or b"/")

def _lister_prefilter(prefilter: Prefilter) -> list[list[tuple[str, str, int | float]]]:
    """``prefilter`` in the lister's terms (its column names), checked; comparisons whose
    outcome is the same for every entry are settled here."""
    out = []
    count = 0
    for conjunction in prefilter:
        terms = [_lister_term(*term) for term in conjunction]
        if False in terms:
            continue                                # never holds
        kept = [term for term in terms if term is not True]
        count += len(kept)
        out.append(kept)
    if len(out) > MAX_PREFILTER_CONJUNCTIONS or count > MAX_PREFILTER_TERMS:
        raise ValueError(f"prefilter: at most {MAX_PREFILTER_CONJUNCTIONS} "
                         f"conjunctions and {MAX_PREFILTER_TERMS} comparisons in all")
    return out


_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")
_TIMES = ("atime", "mtime", "ctime", "btime")   # float64 seconds; the others are int64
_EXACT = 2**53                                  # the integers a float64 holds exactly


def _lister_term(attribute: str, op: str, value: int | float
                 ) -> tuple[str, str, int | float] | bool:
    """One comparison for the lister, which compares exactly: int64 attributes with int64
    constants, or as float64 with floats below 2**53 (where rounding keeps the order);
    times as float64. An integer beyond int64 decides the comparison for every entry."""
    column = PREFILTER_ATTRIBUTES.get(attribute)
    if column is None:
        raise ValueError(f"prefilter: {attribute!r} is not one of "
                         f"{', '.join(PREFILTER_ATTRIBUTES)}")
    if op not in _OPERATORS:
        raise ValueError(f"prefilter: unknown operator {op!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"prefilter: {value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"prefilter: {value!r} is not finite")
    if column in _TIMES:
        if isinstance(value, int) and abs(value) > _EXACT:
            raise ValueError(f"prefilter: {attribute} is float64 seconds: {value} is not exact")
        return (column, op, float(value))
    if isinstance(value, float):
        if abs(value) >= _EXACT:
            raise ValueError(f"prefilter: {attribute} is an integer: compare it with an int, "
                             f"or a float below 2**53, not {value!r}")
        return (column, op, value)
    if -2**63 <= value < 2**63:
        return (column, op, value)
    above = value > 0                               # the constant is above every int64 value
    return {"=": False, "<>": True, "<": above, "<=": above, ">": not above,
            ">=": not above}[op]


def directory_hash(rel: bytes) -> int:
    """DIRECTORY_HASH of a directory (relative to the tree): depth in the high 32 bits,
    a CRC-32 of the path in the low ones, so the entries of one directory share a value
    and deeper directories get larger ones."""
    depth = rel.count(b"/") + 1 if rel else 0
    return (depth << 32) | zlib.crc32(rel)
