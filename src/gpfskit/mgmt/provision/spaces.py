"""Spaces: a fileset per project, linked into the tree, with a quota and a layout.

``create_space`` makes the fileset ``<pool>-<name>`` (independent by default, or dependent
in the inode space of a parent space), creates the parent directories of
``<root>/<relativepath>`` (the root is the file system's mount point, or a directory inside
it such as an NFS exposer's export), links the fileset there, sets its block quota (hard =
``size``, soft = ``arcapix.management.quota.soft_percent`` of it) and lays out its templates.
Each step is recorded in an undo log before it runs; when a step fails, everything done so far
is undone and ``SpaceError`` carries the reason (and the problems of the rollback, if any).

Every check that can be made up front is made before anything changes: names, the path (no
``..``, not existing yet, not inside another space's fileset unless that is the parent), the
size, the pool (a data pool of the file system), the templates, and that the placement policy
routes the new fileset's prefix to the pool (the pool's placement rule is added if missing).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gpfskit.api import Cluster, DependentFileset, Fileset, GPFSError, IndependentFileset
from gpfskit.commands import GPFSExecuteException, dryrun, getDryRun
from gpfskit.mgmt.provision import recorded
from gpfskit.mgmt.provision.errors import FieldError, ProvisionError, RefusedError
from gpfskit.mgmt.provision.names import object_name, relative_path, size_bytes, within
from gpfskit.mgmt.provision.profiles import (
    NO_DEFAULT_RULE,
    Profile,
    data_pools,
    existing_filesystem,
    final_default_rule,
    placement_rule_name,
    pool_placement_rule,
)
from gpfskit.mgmt.provision.settings import soft_limit_percent
from gpfskit.mgmt.provision.templates import Layout, Template, lay_out
from gpfskit.mgmt.provision.undo import Entry, UndoLog
from gpfskit.policy import PlacementPolicy

log = logging.getLogger("gpfskit.mgmt.provision")


class SpaceError(ProvisionError):
    """Creating a space failed and was rolled back; ``rollback_problems`` lists anything the
    rollback could not undo (empty when the cluster is as it was)."""

    def __init__(self, message: str, rollback_problems: Sequence[str] = ()) -> None:
        self.rollback_problems = list(rollback_problems)
        text = message
        if self.rollback_problems:
            text += "; rollback incomplete: " + "; ".join(self.rollback_problems)
        super().__init__(text)


@dataclass(frozen=True)
class SpaceResult:
    """What an operation on a space did (or, in dry run, would do)."""

    filesystem: str
    fileset: str
    path: str | None
    dependent_filesets: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()


def space_fileset_name(pool: str, name: str) -> str:
    """The fileset of space ``name`` placed in ``pool``: ``<pool>-<name>``."""
    return f"{pool}-{name}"


def limits_kib(size: int) -> tuple[int, int]:
    """(soft, hard) block limits in KiB for a space of ``size`` bytes."""
    hard = math.ceil(size / 1024)
    soft = math.floor(size * soft_limit_percent() / 100 / 1024)
    return soft, hard



def _containing_fileset(filesets: Any, path: str) -> str:
    """The name of the linked fileset whose tree holds ``path`` (the deepest junction)."""
    best, best_len = "root", -1
    for fileset in filesets.values():
        junction = fileset.path
        if junction and within(path, junction) and len(junction) > best_len:
            best, best_len = fileset.name, len(junction)
    return best


def _ensure_pool_rule(filesystem: str, pool: str, fileset: str) -> None:
    policy = PlacementPolicy(filesystem)
    if policy.pool_for_fileset(fileset) == pool:
        return
    if placement_rule_name(pool) in policy.rules:
        raise RefusedError(f"the placement policy of {filesystem} does not place fileset "
                           f"{fileset} in pool {pool}: an earlier rule takes it")
    default = final_default_rule(policy)
    if default is None:
        raise RefusedError(f"[{NO_DEFAULT_RULE}] Filesystem {filesystem} has no default "
                           "placement rule; the space's pool cannot be set")
    policy.rules.insert(pool_placement_rule(pool), policy.rules.index(default))
    policy.save()
    log.info("installed placement rule %s on %s", placement_rule_name(pool), filesystem)


def create_space(name: str, filesystem: str, profile: Profile, relativepath: str, size: int,
                 templates: Sequence[Template] = (), *, parent: str | None = None,
                 root: str | None = None, marker: str | None = None,
                 on_undo_change: Callable[[list[Entry]], None] | None = None) -> SpaceResult:
    """Create space ``name`` on ``filesystem``, placed by ``profile``; see the module
    docstring.

    ``parent`` makes a dependent space: a dependent fileset in the inode space of the
    independent fileset ``parent``, linked inside it. ``root`` is the directory
    ``relativepath`` is under (default: the mount point). ``marker`` is the comment given to
    every fileset created (it proves ownership to a later rollback; default: the space's
    own name and a note). ``on_undo_change`` receives the undo log as it grows, for a caller
    that persists it.
    """
    start = recorded.mark()
    object_name(name, "name")
    relative_path(relativepath, "relativepath")
    size = size_bytes(size, "size")
    fs = existing_filesystem(filesystem, "exposers")
    if profile.filesystem != fs.name:
        raise FieldError("profile", f"profile {profile.name} belongs to file system "
                         f"{profile.filesystem}, not to {fs.name} of the exposers")
    pool = profile.pool
    pools = data_pools(filesystem)
    if pool not in pools:
        raise FieldError("profile", f"pool {pool!r} of profile {profile.name} is not a data "
                         f"pool of file system {filesystem} (pools: {', '.join(pools)})")
    mount = fs.mountPoint
    if not mount:
        raise FieldError("exposers", f"file system {filesystem} has no mount point")
    fileset_name = space_fileset_name(pool, name)
    filesets = fs.filesets
    if fileset_name in filesets:
        raise FieldError("name", f"fileset {fileset_name} already exists in file system "
                         f"{filesystem}")
    path = os.path.join(_root_directory(root, mount, filesystem), relativepath)
    if os.path.lexists(path):
        raise FieldError("relativepath", f"{path} already exists")
    holder = _containing_fileset(filesets, path)
    if parent is not None:
        parent_fileset = filesets.get(parent)
        if parent_fileset is None or not parent_fileset.independent:
            raise FieldError("parent", f"{parent!r} is not an independent fileset of "
                             f"{filesystem}")
        if holder != parent:
            raise FieldError("relativepath", f"{path} is not inside the parent space "
                             f"{parent} ({parent_fileset.path})")
    elif holder != "root":
        raise FieldError("relativepath", f"{path} is inside the space of fileset {holder}")
    for template in templates:
        if not os.path.isdir(template.tree):
            raise FieldError("templates", f"template {template.name} is missing from the "
                             f"store ({template.location})")
    soft, hard = limits_kib(size)
    marker = marker or f"space {name}"
    _ensure_pool_rule(filesystem, pool, fileset_name)

    undo = UndoLog(on_change=on_undo_change)
    created: list[str] = []
    fileset: Fileset
    if parent is None:
        fileset = IndependentFileset(filesystem, fileset_name, marker)
    else:
        fileset = DependentFileset(filesystem, fileset_name, marker, inodeSpace=parent)
    try:
        undo.record("create_fileset", filesystem=filesystem, fileset=fileset_name,
                    marker=marker)
        fileset.create()
        _link_creating_parents(fileset, path, undo, marker)
        fileset.change(blockSoftLimit=f"{soft}K", blockHardLimit=f"{hard}K")
        layout = Layout(filesystem, name, parent or fileset_name, path, marker, undo, created)
        for template in templates:
            lay_out(template, layout)
    except Exception as exc:
        reason = str(exc)
        log.error("creating space %s failed: %s", name, reason)
        problems = [] if getDryRun() else undo.rollback()
        raise SpaceError(f"creating space {name} failed: {reason}", problems) from exc
    log.info("space %s created: fileset %s at %s, %d KiB hard / %d KiB soft", name,
             fileset_name, path, hard, soft)
    return SpaceResult(filesystem, fileset_name, path, tuple(created), recorded.since(start))


def _root_directory(root: str | None, mount: str, filesystem: str) -> str:
    if root is None:
        return mount
    normal = os.path.normpath(root)
    if not os.path.isabs(root) or not within(normal, mount) or not os.path.isdir(normal):
        raise FieldError("exposers", f"{root} is not a directory of file system {filesystem} "
                         f"(mounted at {mount})")
    return normal


def _make_parents(path: str, undo: UndoLog) -> None:
    """Create the missing parent directories of ``path`` (none under dry run); a directory
    another operation creates at the same moment is shared, not recorded as ours."""
    missing = []
    parent = os.path.dirname(path)
    while not os.path.isdir(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    if not missing:
        return
    if getDryRun():
        dryrun.assume_directory(missing[0])
        return
    undo.record("make_dirs", paths=missing)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o755)
        except FileExistsError:
            continue


def _link_creating_parents(fileset: Fileset, path: str, undo: UndoLog, marker: str) -> None:
    """Link ``fileset`` at ``path``, creating its parents. A parent that the rollback of
    another space removed in between (it was empty) is created again, up to three times."""
    for attempt in range(3):
        _make_parents(path, undo)
        undo.record("link_fileset", filesystem=fileset.filesystemName, fileset=fileset.name,
                    marker=marker)
        try:
            fileset.link(path)
            return
        except GPFSExecuteException:
            if attempt == 2 or getDryRun() or os.path.isdir(os.path.dirname(path)):
                raise


def _space_fileset(filesystem: str, fileset: str) -> Fileset:
    filesets = existing_filesystem(filesystem).filesets
    found = filesets.get(fileset)
    if found is None:
        raise FieldError("fileset", f"fileset {fileset} does not exist in file system "
                         f"{filesystem}")
    if found.name == "root":
        raise RefusedError("the root fileset is not a space")
    return found


def resize_space(filesystem: str, fileset: str, size: int) -> SpaceResult:
    """Set a space's block quota for a new ``size`` in bytes (hard = size, soft = the
    directive's share of it)."""
    start = recorded.mark()
    size = size_bytes(size, "size")
    space = _space_fileset(filesystem, fileset)
    soft, hard = limits_kib(size)
    space.change(blockSoftLimit=f"{soft}K", blockHardLimit=f"{hard}K")
    return SpaceResult(filesystem, fileset, space.path, commands=recorded.since(start))


def holds_data(path: str | None) -> bool:
    """True when the tree at ``path`` holds anything but directories (snapshots aside)."""
    if not path or not os.path.isdir(path):
        return False
    for _directory, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != ".snapshots"]
        if files:
            return True
    return False


def _inner_filesets(filesets: Any, space: Fileset) -> list[Fileset]:
    """The filesets linked inside the space's tree, deepest first."""
    junction = space.path
    if not junction:
        return []
    inside = [f for f in filesets.values()
              if f.path and f.name != space.name and f.path.startswith(junction + "/")]
    return sorted(inside, key=lambda f: f.path.count("/"), reverse=True)


def _shares_inside(path: str | None) -> list[str]:
    """The NFS exports and SMB shares of ``path`` or of a directory inside it."""
    if not path:
        return []
    cluster = Cluster()
    try:
        nfs, smb = list(cluster.nfsExports.values()), list(cluster.smbShares.values())
    except GPFSError:  # no protocol services: nothing is shared
        return []
    return ([f"NFS export {e.path}" for e in nfs if within(e.path, path)]
            + [f"SMB share {s.name}" for s in smb if within(s.path, path)])


def delete_space(filesystem: str, fileset: str, *, force: bool = False) -> SpaceResult:
    """Unlink and delete a space's fileset and the dependent filesets inside it.

    Refused (RefusedError, nothing changed) when the space has snapshots, when other spaces
    are linked inside it (filesets without the space's marker comment), when it is shared
    over NFS or SMB, and, unless ``force``, when it holds data (any file that is not a
    directory).
    """
    start = recorded.mark()
    space = _space_fileset(filesystem, fileset)
    filesets = existing_filesystem(filesystem).filesets
    if space.independent:
        snapshots = list(space.snapshots)
        if snapshots:
            raise RefusedError(f"space {fileset} has snapshots ({', '.join(snapshots)}); "
                               "delete them first")
    inner = _inner_filesets(filesets, space)
    # The space's own dependent filesets (from its templates) carry its marker comment.
    foreign = [f.name for f in inner if f.independent or f.comment != space.comment]
    if foreign:
        raise RefusedError(f"space {fileset} holds other spaces ({', '.join(foreign)}); "
                           "delete them first")
    path = space.path
    shared = _shares_inside(path)
    if shared:
        raise RefusedError(f"space {fileset} is shared ({', '.join(shared)}); remove the "
                           "shares first")
    if not force and holds_data(path):
        raise RefusedError(f"space {fileset} holds data at {path}; delete it with force to "
                           "remove the data too")
    for dependent in inner:
        dependent.delete(deleteNonEmpty=True, unlink=True, force=True)
    space.delete(deleteNonEmpty=True, unlink=True, force=True)
    log.info("space fileset %s deleted%s", fileset, " with its data" if force else "")
    return SpaceResult(filesystem, fileset, path, tuple(f.name for f in inner),
                       recorded.since(start))
