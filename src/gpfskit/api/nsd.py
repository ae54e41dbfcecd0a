"""Network shared disks: ``Nsd`` and the ``Nsds`` collection (``mmlsnsd -Y``, one command)."""

from __future__ import annotations

from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.node import Node

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
    def disk(self) -> Any:
        from gpfskit.api.disk import Disk

        fs = self.filesystemName
        return Disk._attach(self._loader, self._name, fs) if fs else None


class Nsds(Collection[Nsd]):
    """All NSDs of the cluster, keyed by name."""

    _noun = "NSD"

    def _where(self) -> str:
        return "in the cluster"

    def _build(self) -> dict[str, Nsd]:
        return {name: Nsd._attach(self._loader, name) for name in listings.nsds(self._loader)}
