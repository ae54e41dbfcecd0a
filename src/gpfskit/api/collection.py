"""The dict-like collection every API collection is built on.

Ordered, keyed by name: ``c['name']``, ``'name' in c``, ``keys()``, ``values()``, ``items()``
(lists, so deleting members while looping over them is safe), ``len()``, iteration.
``str(c)`` is the member names joined by commas (``mmfs1,mmfs2``). Members are built from the
Loader's cached listing and rebuilt only when that listing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from gpfskit.api.base import APIObject
from gpfskit.api.loader import Loader

T = TypeVar("T")


class Collection(APIObject, Generic[T]):
    """Base of the API collections; subclasses say how to list their members."""

    _noun = "object"  # what a member is called in error messages

    def __init__(self, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._memo: tuple[int, dict[str, T]] | None = None

    # -- subclasses ---------------------------------------------------------------------
    def _build(self) -> dict[str, T]:
        """The members, in listing order, keyed by name."""
        raise NotImplementedError

    def _where(self) -> str:
        """Where the members live, for error messages (e.g. ``in file system mmfs1``)."""
        return ""

    def _alias(self, key: Any, members: dict[str, T]) -> str | None:
        """The key another name of a member stands for (e.g. a node's short name)."""
        return None

    # -- mapping ------------------------------------------------------------------------
    def _members(self) -> dict[str, T]:
        # The version is taken before the build reads anything: if the cluster changes while
        # the members are built, they are marked with the older version and rebuilt next time.
        version = self._loader.version
        if self._memo is None or self._memo[0] != version:
            members = self._build()
            self._memo = (version, members)
            return members
        return self._memo[1]

    def _key(self, key: Any) -> Any:
        return key.name if isinstance(key, APIObject) and hasattr(key, "name") else key

    def __getitem__(self, key: str | APIObject) -> T:
        members = self._members()
        try:
            return members[self._key(key)]
        except (KeyError, TypeError):
            alias = self._alias(key, members)
            if alias is not None:
                return members[alias]
            where = self._where()
            raise KeyError(f"no {self._noun} named {key!r}{' ' + where if where else ''}"
                           ) from None

    def get(self, key: str | APIObject, default: T | None = None) -> T | None:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        members = self._members()
        try:
            return self._key(key) in members or self._alias(key, members) is not None
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._members()))

    def __len__(self) -> int:
        return len(self._members())

    def __bool__(self) -> bool:
        return bool(self._members())

    def keys(self) -> list[str]:
        return list(self._members())

    def values(self) -> list[T]:
        return list(self._members().values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._members().items())

    def __str__(self) -> str:
        return ",".join(self._members())

    def __repr__(self) -> str:
        where = self._where()
        return f"<{type(self).__name__}{' ' + where if where else ''}: {self}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Collection):
            return type(self) is type(other) and self.items() == other.items()
        if isinstance(other, dict):
            return dict(self.items()) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
