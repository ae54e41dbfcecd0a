"""Storage pools: ``Pool`` and the ``Pools`` collection (``mmlspool <fs>``, one command)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.callbacks import callbackable
from gpfskit.api.collection import Collection
from gpfskit.api.disk import Disks
from gpfskit.api.loader import Loader
from gpfskit.commands import CommandResult

_POOL_CHANGES = {"blockGroupFactor": "--block-group-factor",
                 "writeAffinityDepth": "--write-affinity-depth"}


@callbackable("pool")
class Pool(APIObject):
    """One storage pool of a file system.

    Properties: ``name``, ``id``, ``filesystemName``, ``blockSize`` (bytes), ``data``,
    ``metadata`` (booleans: what the pool holds), ``totalDataKB``, ``freeDataKB``,
    ``freeDataPercent``, ``totalMetaKB``, ``freeMetaKB``, ``freeMetaPercent``, ``sizeKB``,
    ``freeKB``, and the ``disks`` collection.
    """

    def __init__(self, name: str, deviceName: str,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = checks.name(name, "pool")
        self._fs = checks.device(deviceName)

    @classmethod
    def _attach(cls, loader: Loader, name: str, fs: str) -> Pool:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._name, obj._fs = name, fs
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._fs, self._name)

    def __repr__(self) -> str:
        return f"Pool({self._name!r}, {self._fs!r})"

    def _row(self) -> dict[str, Any]:
        row = listings.pools(self._loader, self._fs).get(self._name)
        if row is None:
            raise NotFoundError(f"Storage pool {self._name} is not in file system {self._fs}")
        return row

    @property
    def name(self) -> str:
        return self._name

    @property
    def filesystemName(self) -> str:
        return self._fs

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        row = self._row()
        if attr in row:
            return row[attr]
        raise AttributeError(f"'Pool' object has no attribute {attr!r}")

    @property
    def sizeKB(self) -> int:
        row = self._row()
        return row["totalDataKB"] if row["data"] else row["totalMetaKB"]

    @property
    def freeKB(self) -> int:
        row = self._row()
        return row["freeDataKB"] if row["data"] else row["freeMetaKB"]

    @cached_property
    def disks(self) -> Disks:
        return Disks(self._fs, storagePool=self._name, _loader=self._loader)

    def change(self, **kwargs: Any) -> CommandResult:
        """``mmchpool <fs> <pool>`` with ``blockGroupFactor`` / ``writeAffinityDepth``."""
        checks.no_unknown({k: v for k, v in kwargs.items() if k not in _POOL_CHANGES},
                          "Pool.change()")
        if not kwargs:
            raise ValueError("Pool.change(): nothing to change")
        self._row()
        args: list[str] = []
        for key, value in kwargs.items():
            args += [_POOL_CHANGES[key], str(checks.count(value, key))]
        return self._change(["mmchpool", self._fs, self._name, *args])


class Pools(Collection[Pool]):
    """Storage pools of a file system, keyed by name."""

    _noun = "storage pool"

    def __init__(self, deviceName: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._fs = checks.device(deviceName)

    def _where(self) -> str:
        return f"in file system {self._fs}"

    def _build(self) -> dict[str, Pool]:
        return {name: Pool._attach(self._loader, name, self._fs)
                for name in listings.pools(self._loader, self._fs)}
