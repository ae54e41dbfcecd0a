"""One snapshot, global or of an independent fileset (rows of ``mmlssnapshot <fs> -Y``)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError, node_args, refused
from gpfskit.api.loader import Loader
from gpfskit.api.values import ctime, to_datetime, to_int
from gpfskit.commands import CommandResult


def snapshot_name(value: Any) -> str:
    return checks.name(value, "snapshot")


def expiration_argument(value: Any) -> str:
    """``--expiration-time`` text (``yyyy-mm-dd-hh:mm:ss``) from a datetime or a string."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d-%H:%M:%S")
    text = str(value)
    for fmt in ("%Y-%m-%d-%H:%M:%S", "%Y-%m-%d-%H:%M"):
        try:
            datetime.strptime(text, fmt)
            return text
        except ValueError:
            continue
    raise ValueError(f"expirationTime must be a datetime or 'yyyy-mm-dd-hh:mm[:ss]', "
                     f"not {value!r}")


class Snapshot(APIObject):
    """A snapshot.

    Properties: ``id`` (int), ``name``, ``status`` (``Valid``, ``DeleteRequired``...),
    ``filesetName`` (None for a global snapshot), ``filesystemName``, ``created``
    (datetime), ``dataInKB``, ``metadataInKB``, ``location`` (the directory its files can be
    read from: ``<fs mount>/<snapDir>/<name>``, or under the fileset's junction), and
    ``snapType``.
    """

    def __init__(self, filesystemName: str, name: str, filesetName: str | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(filesystemName)
        self._name = snapshot_name(name)
        self._fileset = checks.name(filesetName, "fileset") if filesetName else None

    @classmethod
    def _attach(cls, loader: Loader, fs: str, name: str, fileset: str | None) -> Snapshot:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._fs, obj._name, obj._fileset = fs, name, fileset
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._fs, self._fileset, self._name)

    def __repr__(self) -> str:
        fileset = f", {self._fileset!r}" if self._fileset else ""
        return f"Snapshot({self._fs!r}, {self._name!r}{fileset})"

    def __str__(self) -> str:
        return self._name

    def _listing(self) -> dict[tuple[str, str], dict[str, Any]]:
        return listings.snapshots(self._loader, self._fs)

    def _key(self) -> tuple[str, str]:
        return (self._fileset or "", self._name)

    def _row(self) -> dict[str, Any]:
        row = self._listing().get(self._key())
        if row is None:
            where = f"fileset {self._fileset} of " if self._fileset else ""
            raise NotFoundError(f"Snapshot {self._name} does not exist in {where}file system "
                                f"{self._fs}.")
        return row

    def exists(self) -> bool:
        return self._key() in self._listing()

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def filesystemName(self) -> str:
        return self._fs

    @property
    def filesetName(self) -> str | None:
        return self._fileset

    @property
    def id(self) -> int | None:
        return to_int(self._row().get("snapID"))

    @property
    def status(self) -> str | None:
        return self._row().get("status")

    @property
    def created(self) -> datetime | None:
        return to_datetime(self._row().get("created"))

    @property
    def dataInKB(self) -> int | None:
        return to_int(self._row().get("data"))

    @property
    def metadataInKB(self) -> int | None:
        return to_int(self._row().get("metadata"))

    @property
    def snapType(self) -> str | None:
        return self._row().get("snapType")

    @property
    def location(self) -> str | None:
        """Where the snapshot's files can be read; None for a snapshot of an unlinked
        fileset."""
        from gpfskit.api.filesystem import Filesystem

        filesystem = Filesystem._attach(self._loader, self._fs)
        if self._fileset is None:
            base = filesystem.mountPoint
        else:
            row = listings.filesets(self._loader, self._fs).get(self._fileset) or {}
            base = row.get("path") if row.get("status") == "Linked" else None
        if not base:
            return None
        return os.path.join(base, filesystem.snapDir, self._name)

    # -- actions -----------------------------------------------------------------------------
    def create(self, expirationTime: Any = None) -> CommandResult:
        """``mmcrsnapshot <fs> <name> [-j <fileset>]``."""
        if self.exists():
            where = f"fileset {self._fileset}" if self._fileset else f"file system {self._fs}"
            raise ValueError(f"snapshot {self._name} already exists in {where}")
        argv = ["mmcrsnapshot", self._fs, self._name]
        if self._fileset:
            argv += ["-j", self._fileset]
            self._check_fileset_can_be_snapshotted(argv)
        if expirationTime is not None:
            argv += ["--expiration-time", expiration_argument(expirationTime)]

        key, created = self._key(), ctime()

        def add(listing: dict[tuple[str, str], dict[str, Any]]) -> None:
            ids = [to_int(r.get("snapID")) or 0 for r in listing.values()]
            listing.setdefault(key, {
                "filesystemName": self._fs, "directory": self._name,
                "snapID": str(max(ids, default=0) + 1), "status": "Valid",
                "created": created, "quotas": None, "data": "0", "metadata": "0",
                "fileset": self._fileset, "snapType": None})

        return self._change(argv, lambda: self._patch(add))

    def _check_fileset_can_be_snapshotted(self, argv: list[str]) -> None:
        """Refuse what the cluster would refuse, as the listing (dry run's changes included)
        shows the fileset: missing, dependent or unlinked."""
        name = self._fileset or ""
        row = listings.filesets(self._loader, self._fs).get(name)
        if row is None:
            raise refused(argv, f"Fileset named {name} does not exist.", 2)
        if to_int(row.get("isInodeSpaceOwner")) != 1:
            raise refused(argv, f"Fileset {name} is a dependent fileset; snapshots can be "
                          "created only for independent filesets.")
        if row.get("status") != "Linked":
            raise refused(argv, f"Fileset {name} is not linked; a snapshot of an unlinked "
                          "fileset cannot be created.")

    def _patch(self, fn: Any) -> None:
        self._loader.patch([listings.snapshots_key(self._fs)], fn)

    def delete(self, qosClass: str | None = None, nodes: Any = None) -> CommandResult:
        """``mmdelsnapshot <fs> <name> [-j <fileset>] [-N nodes] [--qos class]``."""
        self._row()
        argv = ["mmdelsnapshot", self._fs, self._name]
        if self._fileset:
            argv += ["-j", self._fileset]
        if nodes is not None:
            argv += node_args(nodes, all_flag=False)
        if qosClass is not None:
            argv += ["--qos", checks.name(qosClass, "QoS class")]
        key = self._key()
        return self._change(argv, lambda: self._patch(lambda listing: listing.pop(key, None)))
