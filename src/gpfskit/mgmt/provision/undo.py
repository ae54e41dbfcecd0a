"""The undo log: what a multi-step operation has done, kept as data, so it can be undone.

Each step is recorded *before* it runs (write ahead), as an action name and the plain values
its undo needs. ``rollback()`` undoes the steps in reverse order. Every undo is idempotent and
checks the cluster first: a step that never happened, or was already undone, is skipped, and a
fileset is deleted only if its comment still carries the marker this operation gave it, so a
rollback can never remove something it did not create.

Because the entries are plain JSON-able dicts, a caller can persist them as they grow
(``on_change``) and roll back after a crash with ``UndoLog(saved_entries).rollback()``: a job
engine whose worker died mid-space resumes that way.

Under dry run nothing was changed, so there is nothing to roll back and ``rollback()`` does
nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from gpfskit.api import Cluster, Filesystem
from gpfskit.commands import getDryRun

log = logging.getLogger("gpfskit.mgmt.provision")

Entry = dict[str, Any]


def _fileset(data: Entry) -> Any:
    return Filesystem(data["filesystem"]).filesets.get(data["fileset"])


def _undo_create_fileset(data: Entry) -> None:
    fileset = _fileset(data)
    if fileset is None:
        return
    if fileset.comment != data["marker"]:
        log.warning("fileset %s is not the one this operation created (comment %r); left "
                    "alone", data["fileset"], fileset.comment)
        return
    fileset.delete(deleteNonEmpty=True, unlink=True, force=True)


def _undo_link_fileset(data: Entry) -> None:
    fileset = _fileset(data)
    if fileset is not None and fileset.status == "Linked" and \
            fileset.comment == data["marker"]:
        fileset.unlink(force=True)


def _undo_make_dirs(data: Entry) -> None:
    for path in sorted(data["paths"], key=len, reverse=True):
        try:
            os.rmdir(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("left directory %s in place: %s", path, exc.strerror)


def _undo_write_file(data: Entry) -> None:
    try:
        os.unlink(data["path"])
    except FileNotFoundError:
        pass


def _undo_nfs_export(data: Entry) -> None:
    exports = Cluster().nfsExports
    if data["path"] in exports:
        exports.destroy(data["path"])


def _undo_smb_share(data: Entry) -> None:
    shares = Cluster().smbShares
    if data["name"] in shares:
        shares.destroy(data["name"])


def _undo_snapshot(data: Entry) -> None:
    filesystem = Filesystem(data["filesystem"])
    if data.get("fileset"):
        fileset = filesystem.filesets.get(data["fileset"])
        snapshots = fileset.snapshots if fileset is not None else {}
    else:
        snapshots = filesystem.snapshots
    if data["name"] in snapshots:
        snapshots[data["name"]].delete()


UNDO: dict[str, Callable[[Entry], None]] = {
    "create_fileset": _undo_create_fileset,
    "link_fileset": _undo_link_fileset,
    "make_dirs": _undo_make_dirs,
    "write_file": _undo_write_file,
    "nfs_export": _undo_nfs_export,
    "smb_share": _undo_smb_share,
    "snapshot": _undo_snapshot,
}


class UndoLog:
    """See the module docstring."""

    def __init__(self, entries: list[Entry] | None = None,
                 on_change: Callable[[list[Entry]], None] | None = None) -> None:
        self.entries: list[Entry] = [dict(e) for e in entries or ()]
        for entry in self.entries:
            if entry.get("action") not in UNDO:
                raise ValueError(f"unknown undo action {entry.get('action')!r}")
        self._on_change = on_change

    def record(self, action: str, **data: Any) -> None:
        """Note a step about to run, with what undoing it needs."""
        if action not in UNDO:
            raise ValueError(f"unknown undo action {action!r}")
        if getDryRun():
            return
        self.entries.append({"action": action, **data})
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change([dict(e) for e in self.entries])

    def rollback(self) -> list[str]:
        """Undo every recorded step, newest first; returns the problems met (each is also
        logged), an empty list when everything was undone."""
        problems = []
        while self.entries:
            entry = self.entries[-1]
            data = {k: v for k, v in entry.items() if k != "action"}
            log.info("undoing %s %s", entry["action"].replace("_", " "),
                     ", ".join(f"{k}={v}" for k, v in data.items() if k != "marker"))
            try:
                UNDO[entry["action"]](data)
            except Exception as exc:  # a refused command or a file error: keep undoing
                problems.append(f"could not undo {entry['action']}: {exc}")
                log.error("could not undo %s: %s", entry["action"], exc)
            self.entries.pop()
            self._changed()
        return problems
