"""User-defined node classes: ``Nodeclass`` and the ``Nodeclasses`` collection.

Listed with ``mmlsnodeclass -Y``; created with ``mmcrnodeclass``, changed with
``mmchnodeclass <class> {add|delete} -N ...`` and removed with ``mmdelnodeclass``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.node import Node
from gpfskit.commands import CommandResult

_SYSTEM_CLASSES = ("all", "mount", "quorumnodes", "managernodes", "clientnodes",
                   "nonquorumnodes", "nsdnodes", "cesnodes", "gatewaynodes")


def _node_names(nodes: Any) -> list[str]:
    """A node, a node name, or an iterable of them -> names."""
    if nodes is None:
        return []
    if isinstance(nodes, (str, Node)):
        nodes = [nodes]
    names = []
    for node in nodes if isinstance(nodes, Iterable) else [nodes]:
        names.append(node.name if isinstance(node, Node) else checks.host(node))
    return names


class Nodeclass(APIObject):
    """A user-defined node class. ``memberNodes`` are node names, ``nodes`` Node objects.

    A Nodeclass built for a class that does not exist yet collects members with ``add()``
    and ``remove()`` until ``create()``.
    """

    def __init__(self, name: str, memberNodes: Any = None,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = checks.name(name, "node class", reserved=_SYSTEM_CLASSES)
        self._pending = _node_names(memberNodes)

    @classmethod
    def _attach(cls, loader: Loader, name: str) -> Nodeclass:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._name, obj._pending = name, []
        return obj

    def _identity(self) -> tuple[Any, ...]:
        return (self._name,)

    def __repr__(self) -> str:
        return f"Nodeclass({self._name!r})"

    def _listing(self) -> dict[str, dict[str, Any]]:
        return listings.nodeclasses(self._loader)

    def exists(self) -> bool:
        return self._name in self._listing()

    @property
    def name(self) -> str:
        return self._name

    @property
    def memberNodes(self) -> list[str]:
        row = self._listing().get(self._name)
        return list(row["members"]) if row is not None else list(self._pending)

    @property
    def nodes(self) -> list[Node]:
        return [Node._attach(self._loader, name) for name in self.memberNodes]

    @property
    def type(self) -> str | None:
        row = self._listing().get(self._name)
        return row.get("type") if row else None

    def create(self) -> CommandResult:
        """``mmcrnodeclass <name> -N <members>``."""
        if self.exists():
            raise ValueError(f"node class {self._name} already exists")
        if not self._pending:
            raise ValueError(f"node class {self._name} needs at least one member node")
        members = list(self._pending)

        name = self._name

        def add(listing: dict[str, dict[str, Any]]) -> None:
            listing.setdefault(name, {"name": name, "type": "user", "members": list(members)})

        return self._change(["mmcrnodeclass", name, "-N", ",".join(members)],
                            lambda: self._patch(add))

    def _patch(self, fn: Any) -> None:
        self._loader.patch([listings.NODECLASSES], fn)

    def delete(self) -> CommandResult:
        """``mmdelnodeclass <name>``."""
        if not self.exists():
            raise NotFoundError(f"node class {self._name} does not exist")
        name = self._name
        return self._change(["mmdelnodeclass", name],
                            lambda: self._patch(lambda listing: listing.pop(name, None)))

    def _members_change(self, verb: str, nodes: Any) -> CommandResult | None:
        names = _node_names(nodes)
        if not names:
            raise ValueError("no nodes given")
        if not self.exists():
            if verb == "add":
                self._pending += [n for n in names if n not in self._pending]
            else:
                self._pending = [n for n in self._pending if n not in names]
            return None
        current = self._listing()[self._name]["members"]
        if verb == "delete":
            missing = [n for n in names if n not in current]
            if missing:
                raise ValueError(f"{', '.join(missing)} not in node class {self._name}")

        name = self._name

        def edit(listing: dict[str, dict[str, Any]]) -> None:
            if name not in listing:
                return
            members = listing[name]["members"]
            if verb == "add":
                members.extend(n for n in names if n not in members)
            else:
                members[:] = [n for n in members if n not in names]

        return self._change(["mmchnodeclass", name, verb, "-N", ",".join(names)],
                            lambda: self._patch(edit))

    def add(self, node: Any) -> CommandResult | None:
        """Add a node (name, Node, or a list of them): ``mmchnodeclass <name> add -N ...``."""
        return self._members_change("add", node)

    def remove(self, node: Any) -> CommandResult | None:
        """Remove nodes: ``mmchnodeclass <name> delete -N ...``."""
        return self._members_change("delete", node)


class Nodeclasses(Collection[Nodeclass]):
    """The user-defined node classes of the cluster."""

    _noun = "node class"

    def _where(self) -> str:
        return "in the cluster"

    def _build(self) -> dict[str, Nodeclass]:
        return {name: Nodeclass._attach(self._loader, name)
                for name in listings.nodeclasses(self._loader)}

    def new(self, name: str, memberNodes: Any) -> Nodeclass:
        """Create a node class with the given members and return it."""
        nodeclass = Nodeclass(name, memberNodes, _loader=self._loader)
        nodeclass.create()
        return nodeclass

    def destroy(self, nodeclass: str | Nodeclass) -> CommandResult:
        name = nodeclass.name if isinstance(nodeclass, Nodeclass) else nodeclass
        if name not in self:
            raise KeyError(f"no node class named {name!r} in the cluster")
        return self[name].delete()
