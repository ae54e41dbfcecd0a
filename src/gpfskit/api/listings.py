"""The listing commands the API reads, how their output is parsed, and where it is cached.

Every concept has one listing per file system (or per cluster), run through the Loader, so
all objects of that kind share a single command: the argv below *is* the cache key, which is
also how a dry-run change names the listings it patches (``Loader.patch``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gpfskit.api.base import NotFoundError
from gpfskit.api.loader import Loader
from gpfskit.commands import GPFSExecuteException, yformat

Row = dict[str, Any]


def _keyed(column: str, section: str = "") -> Callable[[str], dict[str, Row]]:
    def parse(text: str) -> dict[str, Row]:
        return {key: row for row in yformat.parse_table(text, section)
                if (key := row.get(column)) is not None}
    return parse


# -- cluster, nodes, node states, managers ------------------------------------------------------
CLUSTER = ("mmlscluster", "-Y")
STATES = ("mmgetstate", "-a", "-Y")
MANAGERS = ("mmlsmgr", "-Y")
NODECLASSES = ("mmlsnodeclass", "-Y")
NSDS = ("mmlsnsd", "-Y")


def _parse_cluster(text: str) -> dict[str, Any]:
    tables = yformat.parse(text)
    summary = tables.get(("mmlscluster", "clusterSummary")) or [{}]
    nodes = tables.get(("mmlscluster", "clusterNode"), [])
    return {"summary": summary[0],
            "nodes": {row["daemonNodeName"]: row for row in nodes if row.get("daemonNodeName")}}


def cluster(loader: Loader) -> dict[str, Any]:
    """``{'summary': row, 'nodes': {daemonNodeName: row}}`` from ``mmlscluster -Y``."""
    return loader.command(CLUSTER, _parse_cluster)


def _parse_states(text: str) -> dict[str, Row]:
    states: dict[str, Row] = {}
    for row in yformat.parse_table(text):
        for column in ("nodeName", "daemonShortName"):
            if name := row.get(column):
                states.setdefault(name, row)
    return states


def states(loader: Loader) -> dict[str, Row]:
    """Daemon states of all nodes (``mmgetstate -a -Y``), keyed by node name."""
    return loader.command(STATES, _parse_states)


def _parse_managers(text: str) -> dict[str, Any]:
    tables = yformat.parse(text)
    cluster_rows = tables.get(("mmlsmgr", "clusterManager"), [])
    fs_rows = tables.get(("mmlsmgr", "filesystemManager"), [])
    return {"cluster": _node_of(cluster_rows[0].get("manager")) if cluster_rows else None,
            "filesystems": {r["filesystem"]: _node_of(r.get("manager"))
                            for r in fs_rows if r.get("filesystem")}}


def _node_of(value: str | None) -> str | None:
    """``'192.0.2.1 (node1)'`` -> ``'node1'``; a bare name stays as it is."""
    if not value:
        return None
    match = re.search(r"\(([^)]+)\)", value)
    return match.group(1) if match else value.strip()


def managers(loader: Loader) -> dict[str, Any]:
    """Cluster manager and file system managers (``mmlsmgr -Y``); empty when unavailable."""
    return loader.command(MANAGERS, _parse_managers,
                          empty=lambda exc: exc.returncode == 127)


_CLASS_NAME = ("nodeclass", "nodeClass", "nodeclassName", "nodeClassName", "className", "name")
_CLASS_MEMBERS = ("members", "memberNodes", "nodes", "nodeList", "Members")
_CLASS_TYPE = ("type", "classType", "nodeclassType")


def _first(row: Row, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


def _parse_nodeclasses(text: str) -> dict[str, Row]:
    classes: dict[str, Row] = {}
    for (command, _section), rows in yformat.parse(text).items():
        if command != "mmlsnodeclass":
            continue
        for row in rows:
            name = _first(row, _CLASS_NAME)
            if not name:
                continue
            members = _first(row, _CLASS_MEMBERS) or ""
            classes[name] = {"name": name, "type": _first(row, _CLASS_TYPE),
                             "members": [m for m in re.split(r"[,\s]+", members) if m]}
    return classes


def nodeclasses(loader: Loader) -> dict[str, Row]:
    """User-defined node classes (``mmlsnodeclass -Y``): ``{name: {name, type, members}}``."""
    return loader.command(
        NODECLASSES, _parse_nodeclasses,
        empty=lambda exc: "no node classes" in (exc.stdout + exc.stderr).lower())


def _parse_nsds(text: str) -> dict[str, Row]:
    nsds: dict[str, Row] = {}
    for (command, _section), rows in yformat.parse(text).items():
        if command == "mmlsnsd":
            for row in rows:
                if name := row.get("diskName"):
                    nsds.setdefault(name, row)
    return nsds


def nsds(loader: Loader) -> dict[str, Row]:
    """All NSDs of the cluster (``mmlsnsd -Y``), keyed by disk name."""
    return loader.command(NSDS, _parse_nsds)


# -- file systems ------------------------------------------------------------------------------
def fs_all() -> tuple[str, ...]:
    return ("mmlsfs", "all", "-Y")


def fs_one(device: str) -> tuple[str, ...]:
    return ("mmlsfs", device, "-Y")


def _parse_mmlsfs(text: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for row in yformat.parse_table(text, nulls=False):
        device, field = row.get("deviceName"), row.get("fieldName")
        if device and field:
            result.setdefault(device, {})[field] = row.get("data")
    return result


def filesystems(loader: Loader) -> dict[str, dict[str, Any]]:
    """Every file system's ``mmlsfs`` attributes (``mmlsfs all -Y``), by device name."""
    return loader.command(
        fs_all(), _parse_mmlsfs,
        empty=lambda exc: "no file systems" in (exc.stdout + exc.stderr).lower())


def fs_attributes(loader: Loader, device: str) -> dict[str, Any]:
    """One file system's ``mmlsfs`` attributes: from ``mmlsfs all`` when that is already
    cached, else ``mmlsfs <device> -Y``."""
    everything = loader.peek(fs_all())
    if everything is not None:
        if device not in everything:
            raise NotFoundError(f"File system {device} is not known to the GPFS cluster.")
        return everything[device]
    listing = loader.command(fs_one(device), _parse_mmlsfs)
    if device not in listing:
        raise NotFoundError(f"File system {device} is not known to the GPFS cluster.")
    return listing[device]


def fs_keys(device: str) -> list[tuple[str, ...]]:
    """The keys of every listing holding ``device``'s attributes (what a change patches)."""
    return [fs_all(), fs_one(device)]


MOUNTS = ("mmlsmount", "all", "-L", "-Y")


def _parse_mounts(text: str) -> dict[str, list[str]]:
    mounts: dict[str, list[str]] = {}
    for row in yformat.parse_table(text):
        device = row.get("localDevName") or row.get("realDevName")
        if not device:
            continue
        nodes = mounts.setdefault(device, [])
        node = row.get("nodeName")
        if node and node not in nodes:
            nodes.append(node)
    return mounts


def mounts(loader: Loader) -> dict[str, list[str]]:
    """Nodes each file system is mounted on (``mmlsmount all -L -Y``)."""
    return loader.command(
        MOUNTS, _parse_mounts,
        empty=lambda exc: "not mounted" in (exc.stdout + exc.stderr).lower())


# -- filesets, snapshots, quotas ---------------------------------------------------------------
def filesets_key(device: str) -> tuple[str, ...]:
    return ("mmlsfileset", device, "-Y")


def filesets(loader: Loader, device: str) -> dict[str, Row]:
    """All filesets of ``device`` (``mmlsfileset <device> -Y``), keyed by name, in order."""
    return loader.command(filesets_key(device), _keyed("filesetName"))


def snapshots_key(device: str) -> tuple[str, ...]:
    return ("mmlssnapshot", device, "-Y")


def _parse_snapshots(text: str) -> dict[tuple[str, str], Row]:
    result: dict[tuple[str, str], Row] = {}
    for row in yformat.parse_table(text):
        if name := row.get("directory"):
            result[(row.get("fileset") or "", name)] = row
    return result


def _no_snapshots(exc: GPFSExecuteException) -> bool:
    return "No snapshots in file system" in exc.stdout + exc.stderr


def snapshots(loader: Loader, device: str) -> dict[tuple[str, str], Row]:
    """All snapshots of ``device`` (``mmlssnapshot <device> -Y``), keyed by
    (fileset name or '', snapshot name)."""
    return loader.command(snapshots_key(device), _parse_snapshots, empty=_no_snapshots)


def snapshot_names(loader: Loader, device: str, fileset: str | None) -> list[str]:
    """Names of the global snapshots (``fileset`` None) or of one fileset's, in order."""

    def index() -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for owner, name in snapshots(loader, device):
            grouped.setdefault(owner, []).append(name)
        return grouped

    return loader.derived(("snapshot-names", device), index).get(fileset or "", [])


QUOTA_FLAGS = {"USR": "-u", "GRP": "-g", "FILESET": "-j"}


def quotas_key(device: str, quota_type: str | None = None) -> tuple[str, ...]:
    """``mmrepquota -j <device> -Y`` for one type; ``mmrepquota <device> -Y`` for all."""
    if quota_type is None:
        return ("mmrepquota", device, "-Y")
    return ("mmrepquota", QUOTA_FLAGS[quota_type], device, "-Y")


def _quota_rows(device: str) -> Callable[[str], list[Row]]:
    def parse(text: str) -> list[Row]:
        return [row for row in yformat.parse_table(text)
                if row.get("filesystemName") in (device, None) and row.get("quotaType")]
    return parse


def quotas(loader: Loader, device: str, quota_type: str | None = None) -> list[Row]:
    """Quota rows of ``device``: one type, or all of them.

    A one-type request is served from the all-types listing when that is already cached.
    """
    if quota_type is not None:
        everything = loader.peek(quotas_key(device))
        if everything is not None:
            return [row for row in everything if row["quotaType"] == quota_type]
    return loader.command(quotas_key(device, quota_type), _quota_rows(device))


def quota_rows_of_fileset(loader: Loader, device: str, quota_type: str | None,
                          fileset: str) -> list[Row]:
    """The quota rows scoped to one fileset: its FILESET row and its per-fileset USR/GRP
    rows (an index built once per listing, so every fileset's lookup is cheap)."""

    def index() -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for row in quotas(loader, device, quota_type):
            owner = row.get("name") if row["quotaType"] == "FILESET" else row.get("filesetname")
            if owner:
                grouped.setdefault(owner, []).append(row)
        return grouped

    return loader.derived(("quota-rows", device, quota_type), index).get(fileset, [])


def quota_keys(device: str) -> list[tuple[str, ...]]:
    """The keys of every quota listing of ``device`` (what a dry-run change patches)."""
    return [quotas_key(device)] + [quotas_key(device, t) for t in QUOTA_FLAGS]


# -- pools, disks ------------------------------------------------------------------------------
def pools_key(device: str) -> tuple[str, ...]:
    return ("mmlspool", device)


_POOL_LINE = re.compile(
    r"^(?P<name>\S+)\s+(?P<id>\d+)\s+(?P<bs>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]?B?)\s+"
    r"(?P<data>yes|no)\s+(?P<meta>yes|no)\s+"
    r"(?P<td>\d+)\s+(?P<fd>\d+)\s+\(\s*(?P<fdp>\d+)%\)\s+"
    r"(?P<tm>\d+)\s+(?P<fm>\d+)\s+\(\s*(?P<fmp>\d+)%\)", re.IGNORECASE)
_UNIT = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2,
         "G": 1024**3, "GB": 1024**3, "T": 1024**4, "TB": 1024**4}


def _parse_pools(text: str) -> dict[str, Row]:
    """The text of ``mmlspool`` (it has no ``-Y`` form)."""
    pools: dict[str, Row] = {}
    for line in text.splitlines():
        match = _POOL_LINE.match(line.strip())
        if not match:
            continue
        g = match.groupdict()
        pools[g["name"]] = {
            "name": g["name"], "id": int(g["id"]),
            "blockSize": int(float(g["bs"]) * _UNIT.get(g["unit"].upper(), 1)),
            "data": g["data"].lower() == "yes", "metadata": g["meta"].lower() == "yes",
            "totalDataKB": int(g["td"]), "freeDataKB": int(g["fd"]),
            "freeDataPercent": int(g["fdp"]), "totalMetaKB": int(g["tm"]),
            "freeMetaKB": int(g["fm"]), "freeMetaPercent": int(g["fmp"]),
        }
    return pools


def pools(loader: Loader, device: str) -> dict[str, Row]:
    """Storage pools of ``device`` (``mmlspool <device>``), keyed by name."""
    return loader.command(pools_key(device), _parse_pools)


def disks_key(device: str) -> tuple[str, ...]:
    return ("mmlsdisk", device, "-Y")


def disks(loader: Loader, device: str) -> dict[str, Row]:
    """Disks of ``device`` (``mmlsdisk <device> -Y``), keyed by NSD name."""
    return loader.command(disks_key(device), _keyed("nsdName"))


# -- files -------------------------------------------------------------------------------------
def attrs_key(path: str) -> tuple[str, ...]:
    return ("mmlsattr", "-L", path)


def _parse_mmlsattr(text: str) -> dict[str, str]:
    """``mmlsattr -L`` text: ``label: value`` lines, labels lower-cased without spaces."""
    attrs: dict[str, str] = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if not sep or not label.strip():
            continue
        attrs["".join(label.split()).lower()] = value.strip()
    return attrs


def file_attributes(loader: Loader, path: str) -> dict[str, str]:
    return loader.command(attrs_key(path), _parse_mmlsattr)
