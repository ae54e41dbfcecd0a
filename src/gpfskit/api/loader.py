"""Cached command output shared by the objects reached from one root object.

A ``Loader`` belongs to a root object (a ``Cluster``, or a ``Filesystem``, ``Fileset``,
``Snapshot``... built directly) and is handed to every object reached from it, so a listing
command runs once however many objects read it: all filesets of a file system cost one
``mmlsfileset``, all their snapshots one ``mmlssnapshot``.

Entries are keyed by the argv tuple of the command that produced them (or by any other
hashable key for data read without a command, such as a file's extended attributes) and hold
the *parsed* output. The cache empties itself when ``gpfskit.commands.generation()`` moved
(a changing command ran in this process), when ``refresh()`` is called, and when dry run ended
after the objects patched entries to show changes that were only recorded.

Patches (dry run): ``patch(keys, fn)`` edits the cached value of each key in place with
``fn(value)`` and keeps ``fn`` to replay on that key's value whenever it is loaded again during
the same dry run, so a listing first read after a recorded change shows the change too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from gpfskit.commands import GPFSExecuteException, generation, getDryRun, run

T = TypeVar("T")


class Loader:
    """Parsed command output, cached until the cluster may have changed."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._cache: dict[Hashable, Any] = {}
        self._generation = generation()
        self._patched = False
        self._replay: dict[Hashable, list[Callable[[Any], Any]]] = {}
        self._derived: dict[Hashable, Any] = {}
        self._version = 0

    # -- freshness ---------------------------------------------------------------------------
    def _check(self) -> None:
        current = generation()
        if current != self._generation or (self._patched and not getDryRun()):
            self._forget()
            self._generation = current

    @property
    def version(self) -> int:
        """Changes whenever cached data was dropped or patched (collections rebuild then)."""
        with self._lock:
            self._check()
            return self._version

    def _forget(self) -> None:
        self._cache.clear()
        self._replay.clear()
        self._patched = False
        self._bump()

    def _bump(self) -> None:
        self._version += 1
        self._derived.clear()

    def refresh(self) -> None:
        """Forget everything: the next read runs the listing commands again."""
        with self._lock:
            self._forget()

    # -- reading -----------------------------------------------------------------------------
    def get(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """The cached value for ``key``, computed by ``fetch()`` when missing or stale."""
        with self._lock:
            self._check()
            if key in self._cache:
                return self._cache[key]
            before = self._generation
        value = fetch()
        with self._lock:
            self._check()
            if self._generation != before:
                return value
            if key not in self._cache:
                for fn in self._replay.get(key, []):
                    fn(value)
                self._cache[key] = value
            return self._cache[key]

    def command(self, argv: Sequence[str], parse: Callable[[str], T],
                empty: Callable[[GPFSExecuteException], bool] | None = None) -> T:
        """``parse(stdout)`` of a read-only command, run once while the cache holds.

        ``empty(exc)`` may recognise a failure that only means "nothing to list" (e.g.
        ``No snapshots in file system``); the result is then ``parse('')``.
        """
        key = tuple(argv)

        def fetch() -> T:
            try:
                result = run(list(key))
            except GPFSExecuteException as exc:
                if empty is not None and empty(exc):
                    return parse("")
                raise
            return parse(result.stdout)

        return self.get(key, fetch)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from cached listings (an index, say), kept until they change."""
        with self._lock:
            self._check()
            if key in self._derived:
                return self._derived[key]
            version = self._version
        value = compute()
        with self._lock:
            if self._version == version:
                self._derived.setdefault(key, value)
        return value

    def cached(self, key: Hashable) -> bool:
        with self._lock:
            self._check()
            return key in self._cache

    def peek(self, key: Hashable) -> Any:
        """The cached value for ``key`` or None, never running anything."""
        with self._lock:
            self._check()
            return self._cache.get(key)

    # -- patching (dry run) ------------------------------------------------------------------
    def patch(self, keys: Sequence[Hashable], fn: Callable[[Any], Any]) -> None:
        """Show a recorded change: ``fn(value)`` edits the value cached under each key, now
        if it is cached and again whenever it is loaded during this dry run."""
        with self._lock:
            self._check()
            for key in keys:
                self._replay.setdefault(key, []).append(fn)
                if key in self._cache:
                    fn(self._cache[key])
            self._patched = self._patched or getDryRun()
            self._bump()
