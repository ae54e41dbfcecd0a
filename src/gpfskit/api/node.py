"""Cluster nodes: ``Node`` and the ``Nodes`` collection.

What a node is comes from ``mmlscluster -Y`` (one command for all nodes); its daemon state
from ``mmgetstate -a -Y`` (one command for all nodes, run only when a state is read).
"""

from __future__ import annotations

from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject, NotFoundError
from gpfskit.api.callbacks import callbackable
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.api.values import to_int
from gpfskit.commands import CommandResult

_DESIGNATIONS = {
    # designation -> (quorum, manager)
    "quorumManager": (True, True), "quorum-manager": (True, True), "quorum": (True, False),
    "manager": (False, True), "client": (False, False), "": (False, False),
    "nonquorum": (False, False),
}


def _designation(quorum: bool, manager: bool) -> str:
    """The ``-Y`` spelling of a designation."""
    if quorum and manager:
        return "quorumManager"
    return "quorum" if quorum else ("manager" if manager else "")


@callbackable("node")
class Node(APIObject):
    """One node of the cluster.

    Properties: ``name`` (daemon node name), ``id``/``number``, ``ipAddress``,
    ``adminNodeName`` (also ``adminName``), ``designation`` (``quorumManager``, ``quorum``,
    ``manager`` or ``''`` for a client), ``quorum`` and ``manager`` (booleans), ``roles``,
    ``state`` (``active``, ``down``, ``arbitrating``, ``unknown``).
    """

    def __init__(self, name: str, _loader: Loader | None = None) -> None:
        super().__init__(_loader)
        self._name = checks.host(name)

    @classmethod
    def _attach(cls, loader: Loader, name: str) -> Node:
        node = cls.__new__(cls)
        APIObject.__init__(node, loader)
        node._name = name
        return node

    def _identity(self) -> tuple[Any, ...]:
        return (self._name,)

    def __repr__(self) -> str:
        return f"Node({self._name!r})"

    def __str__(self) -> str:
        return self._name

    def _row(self) -> dict[str, Any]:
        nodes = listings.cluster(self._loader)["nodes"]
        row = nodes.get(self._name)
        if row is None:
            for candidate in nodes.values():
                names = {candidate.get("adminNodeName"), candidate.get("ipAddress"),
                         (candidate.get("daemonNodeName") or "").split(".")[0]}
                if self._name in names:
                    return candidate
            raise NotFoundError(f"Node {self._name} does not belong to the GPFS cluster.")
        return row

    # -- properties --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def number(self) -> int | None:
        return to_int(self._row().get("nodeNumber"))

    id = number

    @property
    def daemonNodeName(self) -> str:
        return self._row().get("daemonNodeName") or self._name

    @property
    def adminNodeName(self) -> str | None:
        return self._row().get("adminNodeName")

    adminName = adminNodeName

    @property
    def ipAddress(self) -> str | None:
        return self._row().get("ipAddress")

    @property
    def designation(self) -> str:
        return self._row().get("designation") or ""

    @property
    def quorum(self) -> bool:
        return _DESIGNATIONS.get(self.designation, (False, False))[0]

    @property
    def manager(self) -> bool:
        return _DESIGNATIONS.get(self.designation, (False, False))[1]

    @property
    def roles(self) -> list[str]:
        text = self._row().get("otherNodeRolesAlias") or self._row().get("otherNodeRoles")
        return [r for r in (text or "").split(",") if r]

    def _state_row(self) -> dict[str, Any] | None:
        states = listings.states(self._loader)
        return states.get(self._name) or states.get(self.daemonNodeName)

    @property
    def state(self) -> str:
        row = self._state_row()
        return (row or {}).get("state") or "unknown"

    # -- actions -----------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        names = {self._name, self.daemonNodeName}

        def edit(states: dict[str, dict[str, Any]]) -> None:
            for name in names:
                if name in states:
                    states[name]["state"] = state

        self._loader.patch([listings.STATES], edit)

    def startup(self) -> CommandResult:
        """Start the daemon on this node (``mmstartup -N <node>``)."""
        self._row()
        return self._change(["mmstartup", "-N", self._name],
                            lambda: self._set_state("active"))

    def shutdown(self, unmountTimeout: int | None = None) -> CommandResult:
        """Stop the daemon on this node (``mmshutdown [-t secs] -N <node>``)."""
        self._row()
        argv = ["mmshutdown"]
        if unmountTimeout is not None:
            argv += ["-t", str(checks.count(unmountTimeout, "unmountTimeout"))]
        return self._change([*argv, "-N", self._name], lambda: self._set_state("down"))

    def change(self, designation: str | None = None, quorum: bool | None = None,
               manager: bool | None = None, adminName: str | None = None,
               **kwargs: Any) -> CommandResult:
        """Change the node with ``mmchnode``: ``designation`` (``quorumManager``, ``quorum``,
        ``manager``, ``client``) or ``quorum``/``manager`` booleans, and ``adminName``."""
        checks.no_unknown(kwargs, "Node.change()")
        row = self._row()
        current = _DESIGNATIONS.get(row.get("designation") or "", (False, False))
        want_quorum, want_manager = current
        if designation is not None:
            if designation not in _DESIGNATIONS:
                raise ValueError(f"designation must be one of quorumManager, quorum, manager, "
                                 f"client; not {designation!r}")
            want_quorum, want_manager = _DESIGNATIONS[designation]
        if quorum is not None:
            want_quorum = bool(quorum)
        if manager is not None:
            want_manager = bool(manager)
        argv = ["mmchnode"]
        if want_quorum != current[0]:
            argv.append("--quorum" if want_quorum else "--nonquorum")
        if want_manager != current[1]:
            argv.append("--manager" if want_manager else "--client")
        if adminName is not None:
            argv.append(f"--admin-interface={checks.host(adminName, 'admin node')}")
        if len(argv) == 1:
            raise ValueError("Node.change(): nothing to change")

        daemon_name = row.get("daemonNodeName") or self._name
        changes = {"designation": _designation(want_quorum, want_manager)}
        if adminName is not None:
            changes["adminNodeName"] = adminName

        def edit(data: dict[str, Any]) -> None:
            if daemon_name in data["nodes"]:
                data["nodes"][daemon_name].update(changes)

        def patch() -> None:
            self._loader.patch([listings.CLUSTER], edit)

        return self._change([*argv, "-N", self._name], patch)


class Nodes(Collection[Node]):
    """The nodes of the cluster, in node-number order, keyed by daemon node name."""

    _noun = "node"

    def _where(self) -> str:
        return "in the cluster"

    def _build(self) -> dict[str, Node]:
        return {name: Node._attach(self._loader, name)
                for name in listings.cluster(self._loader)["nodes"]}

    def _alias(self, key: Any, members: dict[str, Node]) -> str | None:
        """A node's admin name, IP address or short name finds it too."""
        if not isinstance(key, str):
            return None
        for name, row in listings.cluster(self._loader)["nodes"].items():
            if key in (row.get("adminNodeName"), row.get("ipAddress"), name.split(".")[0]):
                return name if name in members else None
        return None
