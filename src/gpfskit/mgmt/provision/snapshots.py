"""Snapshots of spaces (fileset snapshots) and of whole file systems (global snapshots).

A space snapshot needs an independent fileset: a dependent space shares its inode space with
its parent and has no snapshots of its own. Each result reports where the snapshot's files
can be read (``<junction>/.snapshots/<name>``, ``<mount point>/.snapshots/<name>``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gpfskit.mgmt.provision import recorded
from gpfskit.mgmt.provision.errors import FieldError, RefusedError
from gpfskit.mgmt.provision.names import object_name
from gpfskit.mgmt.provision.profiles import existing_filesystem


@dataclass(frozen=True)
class SnapshotResult:
    filesystem: str
    name: str
    fileset: str | None     # None for a file-system snapshot
    location: str | None    # where its files can be read
    commands: tuple[str, ...] = ()


def _snapshots(filesystem: str, fileset: str | None):
    fs = existing_filesystem(filesystem)
    if fileset is None:
        return fs.snapshots
    found = fs.filesets.get(fileset)
    if found is None:
        raise FieldError("space", f"fileset {fileset} does not exist in file system "
                         f"{filesystem}")
    if not found.independent:
        raise RefusedError(f"space {fileset} is a dependent fileset: only spaces with an "
                           "inode space of their own (independent filesets) have snapshots")
    return found.snapshots


def create_snapshot(filesystem: str, name: str, fileset: str | None = None) -> SnapshotResult:
    """Snapshot the space whose fileset is ``fileset``, or the whole file system."""
    start = recorded.mark()
    object_name(name, "name")
    snapshots = _snapshots(filesystem, fileset)
    if name in snapshots:
        where = f"space {fileset}" if fileset else f"file system {filesystem}"
        raise FieldError("name", f"snapshot {name} already exists in {where}")
    snapshot = snapshots.new(name)
    return SnapshotResult(filesystem, name, fileset, snapshot.location,
                          recorded.since(start))


def delete_snapshot(filesystem: str, name: str, fileset: str | None = None) -> SnapshotResult:
    """Delete a space snapshot or a file-system snapshot."""
    start = recorded.mark()
    snapshots = _snapshots(filesystem, fileset)
    if name not in snapshots:
        where = f"space {fileset}" if fileset else f"file system {filesystem}"
        raise FieldError("name", f"there is no snapshot {name!r} in {where}")
    snapshot = snapshots[name]
    location = snapshot.location
    snapshot.delete()
    return SnapshotResult(filesystem, name, fileset, location,
                          recorded.since(start))
