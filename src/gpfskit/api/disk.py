"""The cluster's disks: NSDs (``Nsd``, ``Nsds``: ``mmlsnsd -Y``, one command for the
cluster) and the disks of a file system (``Disk``, ``Disks``: ``mmlsdisk <fs> -Y``).

An NSD and its disk are two views of one device, each reaching the other (``nsd.disk``,
``disk.nsd``), so they live in one module.
"""

from __future__ import annotations

from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.callbacks import callbackable
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.node import Node
from gpfskit.api.values import to_bool, to_int
from gpfskit.commands import CommandResult

_FREE = ("(free disk)", "free disk", "")


class Nsd(APIObject):
    """One NSD. Properties: ``name``, ``filesystemName`` (None for a free disk), ``servers``
    (Node objects), ``serverNames``, ``volumeId``, ``disk`` (None for a free disk)."""

    def __init__(self, name: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = checks.name(name, "NSD")

    @classmethod
    def _attach(cls, loader: Loader, name: str) -> Nsd:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._name = name
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._name,)

    def __repr__(self) -> str:
        return f"Nsd({self._name!r})"

    def _row(self) -> dict[str, Any]:
        row = listings.nsds(self._loader).get(self._name)
        if row is None:
            raise NotFoundError(f"NSD {self._name} does not exist in the cluster")
        return row

    @property
    def name(self) -> str:
        return self._name

    @property
    def filesystemName(self) -> str | None:
        value = self._row().get("fileSystem")
        return None if value is None or value.strip() in _FREE else value

    @property
    def volumeId(self) -> str | None:
        return self._row().get("volumeId")

    @property
    def serverNames(self) -> list[str]:
        text = self._row().get("serverList") or ""
        return [s.strip() for s in text.replace(";", ",").split(",") if s.strip()]

    @property
    def servers(self) -> list[Node]:
        return [Node._attach(self._loader, name) for name in self.serverNames]

    @property
    def disk(self) -> Disk | None:
        fs = self.filesystemName
        return Disk._attach(self._loader, self._name, fs) if fs else None


class Nsds(Collection[Nsd]):
    """All NSDs of the cluster, keyed by name."""

    _noun = "NSD"

    def _where(self) -> str:
        return "in the cluster"

    def _build(self) -> dict[str, Nsd]:
        return {name: Nsd._attach(self._loader, name) for name in listings.nsds(self._loader)}


@callbackable("disk")
class Disk(APIObject):
    """One disk of a file system.

    Properties: ``id``, ``name``, ``nsd`` (the Nsd), ``filesystemName``, ``failureGroup``,
    ``metadata``, ``data`` (booleans), ``status`` (``ready``, ``suspended``...),
    ``availability`` (``up``, ``down``...), ``storagepoolName``, ``sizeKB``, ``driverType``,
    ``sectorSize``, ``remarks``. ``suspend()``, ``resume()``, ``start()``, ``stop()`` use
    ``mmchdisk``.
    """

    def __init__(self, name: str, filesystemName: str | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = checks.name(name, "disk")
        self._fs = checks.device(filesystemName) if filesystemName is not None else None

    @classmethod
    def _attach(cls, loader: Loader, name: str, fs: str) -> Disk:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._name, obj._fs = name, fs
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self.filesystemName, self._name)

    def __repr__(self) -> str:
        return f"Disk({self._name!r}, {self._fs!r})"

    @property
    def filesystemName(self) -> str:
        if self._fs is None:
            fs = Nsd._attach(self._loader, self._name).filesystemName
            if fs is None:
                raise NotFoundError(f"NSD {self._name} is not a disk of any file system")
            self._fs = fs
        return self._fs

    def _row(self) -> dict[str, Any]:
        row = listings.disks(self._loader, self.filesystemName).get(self._name)
        if row is None:
            raise NotFoundError(f"Disk {self._name} is not in file system {self._fs}")
        return row

    @property
    def name(self) -> str:
        return self._name

    @property
    def id(self) -> int | None:
        return to_int(self._row().get("diskID"))

    @property
    def nsd(self) -> Nsd:
        return Nsd._attach(self._loader, self._name)

    @property
    def failureGroup(self) -> int | str | None:
        value = self._row().get("failureGroup")
        number = to_int(value)
        return number if number is not None else value

    @property
    def metadata(self) -> bool | None:
        return to_bool(self._row().get("metadata"))

    @property
    def data(self) -> bool | None:
        return to_bool(self._row().get("data"))

    @property
    def status(self) -> str | None:
        return self._row().get("status")

    @property
    def availability(self) -> str | None:
        return self._row().get("availability")

    @property
    def storagepoolName(self) -> str | None:
        return self._row().get("storagePool")

    @property
    def sizeKB(self) -> int | None:
        return to_int(self._row().get("diskSizeKB"))

    @property
    def driverType(self) -> str | None:
        return self._row().get("driverType")

    @property
    def sectorSize(self) -> int | None:
        return to_int(self._row().get("sectorSize"))

    @property
    def remarks(self) -> str | None:
        return self._row().get("remarks")

    def _chdisk(self, verb: str, column: str, value: str) -> CommandResult:
        self._row()
        name = self._name

        def edit(listing: dict[str, dict[str, Any]]) -> None:
            if name in listing:
                listing[name][column] = value

        return self._change(
            ["mmchdisk", self.filesystemName, verb, "-d", name],
            lambda: self._loader.patch([listings.disks_key(self.filesystemName)], edit))

    def suspend(self) -> CommandResult:
        """``mmchdisk <fs> suspend -d <disk>``: no new data goes to the disk."""
        return self._chdisk("suspend", "status", "suspended")

    def resume(self) -> CommandResult:
        """``mmchdisk <fs> resume -d <disk>``."""
        return self._chdisk("resume", "status", "ready")

    def stop(self) -> CommandResult:
        """``mmchdisk <fs> stop -d <disk>``."""
        return self._chdisk("stop", "availability", "down")

    def start(self) -> CommandResult:
        """``mmchdisk <fs> start -d <disk>``."""
        return self._chdisk("start", "availability", "up")


class Disks(Collection[Disk]):
    """Disks of a file system, or of one of its pools, keyed by NSD name."""

    _noun = "disk"

    def __init__(self, deviceName: str, storagePool: str | None = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(deviceName)
        self._pool = storagePool

    def _where(self) -> str:
        pool = f" pool {self._pool} of" if self._pool else ""
        return f"in{pool} file system {self._fs}"

    def _build(self) -> dict[str, Disk]:
        return {name: Disk._attach(self._loader, name, self._fs)
                for name, row in listings.disks(self._loader, self._fs).items()
                if self._pool is None or row.get("storagePool") == self._pool}
