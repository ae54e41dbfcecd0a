"""Snapshots of a file system or of one fileset: the ``Snapshots`` collection.

All snapshots of a file system come from one ``mmlssnapshot <fs> -Y``, shared by the global
collection and by the ``snapshots`` of every fileset reached through the same root object.

The root fileset's collection is, as in the original API, the global snapshots: its ``new``
makes a global snapshot. The deprecated pragma ``setRootFilesetSnapshots(True)`` switches it
to the root fileset's own snapshots (``mmcrsnapshot <fs> <name> -j root``).
"""

from __future__ import annotations

import warnings
from typing import Any, Self

from gpfskit.api import checks, listings
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.snapshot import Snapshot, snapshot_name
from gpfskit.commands import CommandResult

_root_fileset_snapshots = False


def setRootFilesetSnapshots(enabled: bool) -> None:
    """Deprecated pragma: make the root fileset's ``snapshots`` its own fileset snapshots
    (``-j root``) instead of the global ones, from now on, in this process."""
    warnings.warn("setRootFilesetSnapshots is deprecated: use the file system's snapshots for "
                  "global snapshots", DeprecationWarning, stacklevel=2)
    global _root_fileset_snapshots
    _root_fileset_snapshots = bool(enabled)


def getRootFilesetSnapshots() -> bool:
    return _root_fileset_snapshots


def snapshot_scope(fileset: str | None) -> str | None:
    """The fileset whose snapshots a fileset's collection holds (None: the global ones)."""
    if fileset == "root" and not _root_fileset_snapshots:
        return None
    return fileset


class Snapshots(Collection[Snapshot]):
    """Snapshots keyed by name: the global ones (``filesetName=None``) or a fileset's."""

    _noun = "snapshot"

    def __init__(self, deviceName: str, filesetName: str | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(deviceName)
        self._fileset = snapshot_scope(checks.name(filesetName, "fileset")) if filesetName \
            else None

    @classmethod
    def _attach(cls, loader: Loader, fs: str, fileset: str | None) -> Self:
        """The collection for names read from a listing (not checked again)."""
        obj = cls.__new__(cls)
        Collection.__init__(obj, loader)
        obj._fs, obj._fileset = fs, fileset
        return obj

    def _where(self) -> str:
        scope = f"fileset {self._fileset} of " if self._fileset else ""
        return f"in {scope}file system {self._fs}"

    def _build(self) -> dict[str, Snapshot]:
        return {name: Snapshot._attach(self._loader, self._fs, name, self._fileset)
                for name in listings.snapshot_names(self._loader, self._fs, self._fileset)}

    def new(self, name: str, **kwargs: Any) -> Snapshot:
        """Create a snapshot and return it (``expirationTime=`` sets an expiration)."""
        expiration = kwargs.pop("expirationTime", None)
        checks.no_unknown(kwargs, "Snapshots.new()")
        snapshot = Snapshot._attach(self._loader, self._fs, snapshot_name(name), self._fileset)
        snapshot.create(expirationTime=expiration)
        return snapshot

    def destroy(self, snapshot: str | Snapshot, qosClass: str | None = None,
                nodes: Any = None) -> CommandResult:
        """Delete a snapshot: ValueError when there is no such snapshot here,
        GPFSExecuteException when the cluster refuses."""
        name = snapshot.name if isinstance(snapshot, Snapshot) else snapshot
        if not isinstance(name, str) or name not in self:
            raise ValueError(f"no snapshot named {name!r} {self._where()}")
        return self[name].delete(qosClass=qosClass, nodes=nodes)


class DependentSnapshots(Snapshots):
    """The snapshots of a dependent fileset, which are none: it has no inode space of its
    own, so it cannot be snapshotted alone; snapshots of the independent fileset owning its
    inode space (and global snapshots) capture it. Listing gives an empty collection;
    ``new`` raises ValueError saying which fileset to snapshot instead."""

    owner: str | None = None   # the independent fileset whose inode space it shares

    def _build(self) -> dict[str, Snapshot]:
        return {}

    def new(self, name: str, **kwargs: Any) -> Snapshot:
        instead = f"fileset {self.owner}" if self.owner else "its inode space's fileset"
        raise ValueError(f"fileset {self._fileset} is a dependent fileset and has no "
                         f"snapshots of its own; snapshot {instead} (or the file system) "
                         "to capture it")
