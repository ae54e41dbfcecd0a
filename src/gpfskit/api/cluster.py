"""The cluster: the usual root of the object hierarchy.

``Cluster()`` starts with a Loader of its own, so a new Cluster always shows the cluster as it
is now; everything reached from it shares that Loader (and its cached listings).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gpfskit.api import checks, listings
from gpfskit.api.base import APIObject
from gpfskit.api.callbacks import Callbacks, callbackable
from gpfskit.api.disk import Nsds
from gpfskit.api.exports import NfsExports, SmbShares
from gpfskit.api.filesystem import Filesystems
from gpfskit.api.node import Nodes
from gpfskit.api.nodeclass import Nodeclasses
from gpfskit.commands import CommandResult


@callbackable("cluster")
class Cluster(APIObject):
    """The GPFS cluster (``mmlscluster``).

    Properties: ``id``/``clusterId``, ``name``, ``UIDdomain``, ``RemoteShellCmd``,
    ``RemoteFileCopyCmd``, ``PrimaryConfigServer``, ``SecondaryConfigServer`` (None if
    absent), ``RepositoryType`` (``CCR`` or ``server-based``), ``manager`` (the cluster
    manager node's name); collections ``filesystems``, ``nodes``, ``nodeclasses``, ``nsds``,
    ``callbacks``, ``nfsExports`` and ``smbShares``; ``on<Event>`` members for every callback
    event (``onStartup``...).
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self._requested = checks.host(name, "cluster") if name is not None else None

    def __repr__(self) -> str:
        return f"Cluster({self._requested!r})" if self._requested else "Cluster()"

    def _summary(self) -> dict[str, Any]:
        return listings.cluster(self._loader)["summary"]

    def _value(self, column: str) -> str | None:
        return self._summary().get(column) or None

    @property
    def name(self) -> str | None:
        return self._value("clusterName")

    @property
    def clusterId(self) -> str | None:
        return self._value("clusterId")

    id = clusterId

    @property
    def UIDdomain(self) -> str | None:
        return self._value("uidDomain")

    @property
    def RemoteShellCmd(self) -> str | None:
        return self._value("rshPath")

    @property
    def RemoteFileCopyCmd(self) -> str | None:
        return self._value("rcpPath")

    @property
    def PrimaryConfigServer(self) -> str | None:
        return self._value("primaryServer")

    @property
    def SecondaryConfigServer(self) -> str | None:
        return self._value("secondaryServer")

    @property
    def RepositoryType(self) -> str | None:
        return self._value("repositoryType")

    @property
    def manager(self) -> str | None:
        return listings.managers(self._loader).get("cluster")

    @cached_property
    def filesystems(self) -> Filesystems:
        return Filesystems(_loader=self._loader)

    @cached_property
    def nodes(self) -> Nodes:
        return Nodes(_loader=self._loader)

    @cached_property
    def nodeclasses(self) -> Nodeclasses:
        return Nodeclasses(_loader=self._loader)

    @cached_property
    def nsds(self) -> Nsds:
        return Nsds(_loader=self._loader)

    @cached_property
    def callbacks(self) -> Callbacks:
        """Every callback on the cluster (``mmlscallback all -Y``); see ``api.callbacks``."""
        return Callbacks(_loader=self._loader)

    @cached_property
    def nfsExports(self) -> NfsExports:
        """The NFS exports of the cluster's protocol nodes (``mmnfs export list``)."""
        return NfsExports(_loader=self._loader)

    @cached_property
    def smbShares(self) -> SmbShares:
        """The SMB shares of the cluster's protocol nodes (``mmsmb export list``)."""
        return SmbShares(_loader=self._loader)

    def shutdown(self, unmountTimeout: int | None = None) -> CommandResult:
        """Stop the daemons on every node (``mmshutdown -a [-t secs]``)."""
        argv = ["mmshutdown"]
        if unmountTimeout is not None:
            argv += ["-t", str(checks.count(unmountTimeout, "unmountTimeout"))]

        return self._change([*argv, "-a"], lambda: self._set_states("down"))

    def startup(self) -> CommandResult:
        """Start the daemons on every node (``mmstartup -a``)."""

        return self._change(["mmstartup", "-a"], lambda: self._set_states("active"))

    def _set_states(self, state: str) -> None:
        def edit(states: dict[str, dict[str, Any]]) -> None:
            for row in states.values():
                row["state"] = state

        self._loader.patch([listings.STATES], edit)
