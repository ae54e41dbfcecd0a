"""Populating the store from the cluster, and the default placement rules.

:func:`populate` reads the cluster (through :mod:`gpfskit.api` only) and reconciles the
store with it: a ``gpfsnative`` exposer per file system, a datastore per pool, a default
profile ``<filesystem>-<pool>`` per data pool, a space per fileset (except those matching
``arcapix.management.filesets.exclude``), the snapshots, and an ``nfs`` / ``smb`` exposer
per NFS export and SMB share.

- ``now`` creates what is missing, refreshes ACTIVE entries and drops ACTIVE entries whose
  object is gone; entries in any other state are left alone (they belong to a job, or are
  ERRORED and waiting for a retry).
- ``rebuild`` makes the store match the cluster exactly, whatever the entries' states; it
  refuses while items are PENDING or INPROGRESS.

``adminctl policy install default`` (:func:`install_default_policy`) adds ``RULE
'<pool>-placement' SET POOL '<pool>' WHERE FILESET_NAME LIKE '<pool>-%'`` for every data pool
before each file system's final default rule (see :mod:`gpfskit.mgmt.provision.profiles`).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gpfskit.mgmt import messages, models, store
from gpfskit.mgmt.resources import add_job_type

log = logging.getLogger(__name__)
POPULATED = "populated"
DISCOVERED = "discovered on the cluster"
BUSY = (models.PENDING, models.INPROGRESS, models.DELETING)


class RebuildRefused(RuntimeError):
    pass


@dataclass
class Observed:
    """What the cluster has, as column values keyed by each kind's natural key."""

    exposers: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    datastores: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    spaces: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[tuple, dict[str, Any]] = field(default_factory=dict)


def _excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def observe(exclude: tuple[str, ...]) -> Observed:
    """Read the cluster: one listing per kind of object and file system."""
    from gpfskit.api import Cluster

    seen = Observed()
    cluster = Cluster()
    mounts = []
    for fs in cluster.filesystems.values():
        mounts.append((fs.mountPoint or "", fs.name))
        mount = fs.mountPoint
        seen.exposers[("gpfsnative", fs.name)] = {
            "type": "gpfsnative", "name": fs.name, "filesystem": fs.name, "mountpoint": mount}
        data_pools = []
        for pool in fs.pools.values():
            size, free = pool.sizeKB * 1024, pool.freeKB * 1024
            seen.datastores[(fs.name, pool.name)] = {
                "type": "gpfspool", "name": pool.name, "filesystem": fs.name, "pool": pool.name,
                "capacity": size, "usage": size - free}
            if pool.data:
                data_pools.append(pool.name)
                seen.profiles[(f"{fs.name}-{pool.name}",)] = {
                    "name": f"{fs.name}-{pool.name}", "filesystem": fs.name,
                    "pool": pool.name, "default": True, "_datastore": (fs.name, pool.name)}
        quotas = fs.quotas.fileset
        for fileset in fs.filesets.values():
            if _excluded(fileset.name, exclude):
                continue
            pool = next((p for p in data_pools if fileset.name.startswith(p + "-")), None)
            quota = quotas.get(fileset.name)
            limit = quota.blockLimit if quota is not None else None
            path = fileset.path
            seen.spaces[(fs.name, fileset.name)] = {
                "name": fileset.name[len(pool) + 1:] if pool else fileset.name,
                "filesystem": fs.name, "fileset": fileset.name, "path": path or None,
                "relativepath": os.path.relpath(path, mount) if path and mount else None,
                "size": limit * 1024 if limit else None,
                "comment": fileset.comment or "",
                "_profile": (f"{fs.name}-{pool}",) if pool else None,
                "_exposers": [("gpfsnative", fs.name)]}
            for snap in fileset.snapshots.values():
                seen.snapshots[(fs.name, fileset.name, snap.name)] = {
                    "name": snap.name, "type": "gpfsspacesnapshot", "filesystem": fs.name,
                    "fileset": fileset.name, "_space": (fs.name, fileset.name)}
        for snap in fs.snapshots.values():
            seen.snapshots[(fs.name, None, snap.name)] = {
                "name": snap.name, "type": "gpfsglobalsnapshot", "filesystem": fs.name,
                "fileset": None, "_space": None}
    _observe_exports(cluster, mounts, seen)
    return seen


def _filesystem_of(path: str, mounts: list[tuple[str, str]]) -> str:
    for mount, name in sorted(mounts, reverse=True):
        if mount and (path == mount or path.startswith(mount.rstrip("/") + "/")):
            return name
    return ""


def export_name(path: str) -> str:
    """An exposer name for an NFS export found on the cluster: its path's last parts."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", path.strip("/")).strip("-")
    return (name or "root")[-255:]


def _observe_exports(cluster: Any, mounts: list[tuple[str, str]], seen: Observed) -> None:
    """The NFS exports and SMB shares, as ``nfs`` / ``smb`` exposers (keyed by export path
    and by share name)."""
    from gpfskit.api import GPFSError

    try:
        nfs = cluster.nfsExports.values()
        smb = cluster.smbShares.values()
    except GPFSError as exc:  # no protocol nodes: the rest of the cluster still counts
        messages.log(log, "GK0120W", reason=str(exc))
        return
    for export in nfs:
        clients = [{"client": c.client, **c.options} for c in export.clients]
        seen.exposers[("nfs", export.path)] = {
            "type": "nfs", "name": export_name(export.path), "path": export.path,
            "mountpoint": export.path, "filesystem": _filesystem_of(export.path, mounts),
            "extras": json.dumps({"clients": clients}, sort_keys=True)}
    for share in smb:
        seen.exposers[("smb", share.name)] = {
            "type": "smb", "name": share.name, "path": share.path, "mountpoint": share.path,
            "filesystem": _filesystem_of(share.path, mounts),
            "extras": json.dumps({"options": dict(share.options)}, sort_keys=True)}


# How each kind's rows are keyed, and which rows discovery manages.
KINDS: list[tuple[str, type, Callable[[Any], tuple], Any]] = [
    ("exposers", models.Exposer, lambda r: (r.type, r.path if r.type == "nfs" else r.name),
     models.Exposer.type.in_(("gpfsnative", "nfs", "smb"))),
    ("datastores", models.Datastore, lambda r: (r.filesystem, r.pool), None),
    ("profiles", models.Profile, lambda r: (r.name,), models.Profile.default.is_(True)),
    ("spaces", models.Space, lambda r: (r.filesystem, r.fileset), None),
    ("snapshots", models.Snapshot, lambda r: (r.filesystem, r.fileset, r.name), None),
]


def _resolve(values: dict[str, Any], rows: dict[str, dict[tuple, Any]]) -> dict[str, Any]:
    """Turn the ``_datastore``/``_profile``/``_space``/``_exposers`` keys into objects."""
    out = {k: v for k, v in values.items() if not k.startswith("_")}
    if "_datastore" in values:
        out["datastore"] = rows["datastores"].get(values["_datastore"])
    if "_profile" in values:
        out["profile"] = rows["profiles"].get(values["_profile"]) if values["_profile"] else None
    if "_space" in values:
        out["space"] = rows["spaces"].get(values["_space"]) if values["_space"] else None
    if "_exposers" in values:
        out["exposers"] = [rows["exposers"][k] for k in values["_exposers"]
                           if k in rows["exposers"]]
    return out


def _reconcile(s: Session, seen: Observed, rebuild: bool) -> dict[str, list[int]]:
    summary: dict[str, list[int]] = {}
    rows: dict[str, dict[tuple, Any]] = {}
    for kind, model, key_of, managed in KINDS:
        stmt = select(model) if managed is None else select(model).where(managed)
        existing = {key_of(r): r for r in s.scalars(stmt)}
        observed: dict[tuple, dict[str, Any]] = getattr(seen, kind)
        created = updated = removed = left = 0
        current: dict[tuple, Any] = {}
        for key, values in observed.items():
            row = existing.get(key)
            if row is None:
                row = model(status=models.ACTIVE, status_message=DISCOVERED)
                s.add(row)
                created += 1
            elif row.status != models.ACTIVE and not rebuild:
                messages.log(log, "GK0104W", kind=kind[:-1], name=row.name, status=row.status)
                left += 1
                current[key] = row
                continue
            else:
                updated += 1
                row.status, row.status_message = models.ACTIVE, DISCOVERED
            for name, value in _resolve(values, rows).items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            current[key] = row
        for key, row in existing.items():
            if key not in observed and (row.status == models.ACTIVE or rebuild):
                s.delete(row)
                removed += 1
        s.flush()
        rows[kind] = current
        summary[kind] = [created, updated, removed, left]
    return summary


def populate(url: str | None = None, *, mode: str = "now", conditional: bool = False,
             exclude: tuple[str, ...] | None = None) -> str:
    """Populate the store (``mode`` ``now`` or ``rebuild``); returns the operator message."""
    from gpfskit.config import config

    if exclude is None:
        exclude = tuple(config["arcapix.management.filesets.exclude"])
    with store.session(url) as s:
        if conditional and store.meta_get(s, POPULATED):
            return messages.log(log, "GK0102I")
        if mode == "rebuild":
            busy = sum(s.scalar(select(func.count()).select_from(model)
                                .where(model.status.in_(BUSY))) for _, model, _, _ in KINDS)
            if busy:
                raise RebuildRefused(messages.text("GK0103E", count=busy))
        seen = observe(exclude)
        summary = _reconcile(s, seen, rebuild=mode == "rebuild")
        store.meta_set(s, POPULATED, models.utcnow().isoformat())
    text = "; ".join(f"{kind} {c} new, {u} refreshed, {r} removed"
                     + (f", {left} left alone" if left else "")
                     for kind, (c, u, r, left) in summary.items())
    return messages.log(log, "GK0101I", summary=text)


def _populate_job(_item_id: str, _job_id: str) -> None:
    populate(mode="now")


add_job_type("populate", _populate_job, retry_safe=True)


def install_default_policy() -> list[str]:
    """Add the per-pool placement rules where missing, on every file system; returns the
    operator messages."""
    from gpfskit.api import Cluster
    from gpfskit.mgmt.provision.profiles import ensure_default_placement_rules

    out = []
    for fs in Cluster().filesystems.values():
        change = ensure_default_placement_rules(fs.name)
        if change.warning:
            out.append(change.warning)
        elif change.added:
            out.extend(messages.log(log, "GK0110I", rule=rule, filesystem=fs.name)
                       for rule in change.added)
        else:
            out.append(messages.log(log, "GK0111I", filesystem=fs.name))
    return out
