"""The work lists of a job: the file-list records for each destination, and keeping them.

``WorkLists`` is what phase 3 starts from (``execution.Executor`` extends it with acting
on the lists); with ``-I defer`` or ``test`` and streamed list groups only, it is all a
job needs, so it needs neither NumPy nor pyarrow.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from gpfskit.emulator.applypolicy.plans import Group
from gpfskit.language import Rule

if TYPE_CHECKING:
    import numpy as np


@dataclass
class WorkList:
    """Records for one destination, with how to split them into buckets."""

    key: tuple                       # ('list', name) | ('external', pool, op) | ...
    path: str
    escape: str | None = None
    rule: Rule | None = None         # the EXTERNAL rule (for EXEC / OPTS / SIZE)
    count: int = 0
    sizes: list[np.ndarray] = field(default_factory=list)   # KB per record, when SIZE caps
    replicate: int | None = None
    handle: IO[bytes] | None = None

    def write(self, data: Any, n: int, sizes: np.ndarray | None = None) -> None:
        if self.handle is None:
            self.handle = open(self.path, "ab")  # noqa: SIM115
        self.handle.write(data)
        self.count += n
        if sizes is not None:
            self.sizes.append(sizes)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


@dataclass
class Outcome:
    dispatched: int = 0
    migrated: int = 0
    deleted: int = 0
    scripted: int = 0
    errors: int = 0
    skipped: int = 0
    lines: list[str] = field(default_factory=list)      # for stdout
    problems: list[str] = field(default_factory=list)   # for stderr ([E]/[W] lines)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def deferred_name(key: tuple) -> str:
    kind = key[0]
    if kind == "list":
        return f"list.{key[1]}"
    if kind == "external":
        return f"{key[2].lower()}.{key[1]}"
    if kind == "migrate":
        return f"migrate.{key[1]}"
    return "delete"


class WorkLists:
    """One work list per destination key, as files in the work directory."""

    def __init__(self, action: str, workdir: str):
        self.action = action
        self.workdir = workdir
        self.worklists: dict[tuple, WorkList] = {}
        self._counter = 0

    def _worklist(self, key: tuple, escape: str | None = None, rule: Rule | None = None
                  ) -> WorkList:
        wl = self.worklists.get(key)
        if wl is None:
            self._counter += 1
            path = os.path.join(self.workdir, f"work.{self._counter}")
            wl = self.worklists[key] = WorkList(key, path, escape, rule)
        return wl

    def adopt_stream(self, group: Group) -> None:
        """A streamed list group's records are its work list as they are."""
        wl = self._worklist(("list", group.key), group.escape, group.external)
        if group.stream_path and os.path.exists(group.stream_path):
            wl.path = group.stream_path
            wl.count = sum(p.chosen for p in group.plans)

    def close(self) -> None:
        for wl in self.worklists.values():
            wl.close()

    # Keeping lists -----------------------------------------------------------------------------
    def keep(self, prefix: str, keys: set[tuple] | None = None) -> list[str]:
        """Keep work lists as ``PREFIX.<kind>.<name>``; returns the paths.

        A list that will not be executed afterwards is moved (a rename when the work
        directory is on the same file system), the others are copied.
        """
        self.close()
        kept: list[str] = []
        for key, wl in self.worklists.items():
            if keys is not None and key not in keys:
                continue
            name = deferred_name(key)
            destination = os.path.join(prefix, name) if os.path.isdir(prefix) \
                else f"{prefix}.{name}"
            if destination in kept:
                with open(destination, "ab") as out, open(wl.path, "rb") as src:
                    shutil.copyfileobj(src, out)
                continue
            runs_later = self.action == "yes" and wl.rule is not None and bool(wl.rule.exec_)
            if not os.path.exists(wl.path):
                open(destination, "wb").close()
            elif runs_later:
                shutil.copyfile(wl.path, destination)
            else:
                try:
                    os.replace(wl.path, destination)
                except OSError:
                    shutil.copyfile(wl.path, destination)
            kept.append(destination)
        return kept
