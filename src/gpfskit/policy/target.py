"""What a policy runs on, and where its work files go.

A target is a file system (``'mmfs1'``, ``'/dev/mmfs1'`` or a Filesystem object) or a
directory (any path in a file system, snapshot paths such as
``/gpfs/mmfs1/.snapshots/snap1/projects`` included). The work directory of a run is made
under, in order of precedence:

1. the path given to :func:`setTempFilePath` (shared with ``gpfskit.api``);
2. the configuration directive ``gpfskit.policy.tmpdir``;
3. ``<mount point of the target's file system>/.policytmp``, shared by every node that mounts
   the file system, which ``mmapplypolicy -g`` needs when helper nodes run the drivers;
4. the system's temporary directory, for a directory outside every known file system.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any

from gpfskit.api import Cluster, Filesystem
from gpfskit.api.filesystem import TEMP_DIR_NAME, getTempFilePath, setTempFilePath
from gpfskit.config import config

__all__ = ["Target", "getTempFilePath", "resolve", "setTempFilePath", "work_base"]


@dataclass(frozen=True)
class Target:
    """``argument``: what mmapplypolicy gets; ``filesystem`` / ``mount_point``: the file
    system it lies in (None when unknown); ``path``: the scanned directory (None for a
    whole file system)."""

    argument: str
    filesystem: str | None
    mount_point: str | None
    path: str | None = None

    @property
    def scanned_root(self) -> str | None:
        """The directory whose files the scan sees."""
        return self.path or self.mount_point


def _filesystems() -> list[Filesystem]:
    return Cluster().filesystems.values()


def resolve(target: Any) -> Target:
    """Classify a run target (see the module docstring)."""
    if not isinstance(target, str):
        target = getattr(target, "deviceName", None) or getattr(target, "name", None)
    if not isinstance(target, str) or not target:
        raise TypeError(f"a policy target is a file system name or a directory, not {target!r}")
    if target.startswith("/dev/") and "/" not in target[len("/dev/"):]:
        target = target[len("/dev/"):]   # /dev/mmfs1 names the device; /dev/shm/... is a path
    if not target.startswith("/"):
        return Target(target, target, Filesystem(target).mountPoint)
    path = os.path.abspath(target)
    best = None
    for fs in _filesystems():
        mount = fs.mountPoint
        inside = mount and (path == mount or path.startswith(mount.rstrip("/") + "/"))
        if inside and (best is None or len(mount) > len(best[1])):
            best = (fs.name, mount)
    if best is None:
        return Target(path, None, None, path)
    return Target(path, best[0], best[1], path)


def work_base(target: Target) -> str:
    """The directory a run's work directory is created in."""
    configured = getTempFilePath()
    if configured:
        return configured
    directive = config["gpfskit.policy.tmpdir"]
    if directive:
        return str(directive)
    if target.mount_point:
        return os.path.join(target.mount_point, TEMP_DIR_NAME)
    return tempfile.gettempdir()
