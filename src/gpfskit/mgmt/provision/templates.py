"""Templates: a directory layout captured from a model tree, laid out into new spaces.

Capturing copies the model into the template store (``<store>/<template id>/tree``) with its
directories, files, symbolic links, modes, owners, times, extended attributes and POSIX ACLs
(which Linux keeps as the ``system.posix_acl_*`` attributes), and writes ``template.json``
naming the dependent filesets found inside the model, each with its path in the tree and the
pool the placement policy gives it. The copy is made under a temporary name and renamed into
place, so a failed capture leaves nothing, and a captured template never reads the model
again: the model may change or vanish.

Laying a template out copies the tree into a space's directory; each recorded fileset becomes
a dependent fileset ``<its pool>-<space name>-<8 hex>`` in the space's inode space, linked at
the same place, before its contents are copied into it. The filesets go into the caller's
undo log; the directories and files need no entries, since everything is laid out inside the
space's own fileset, whose deletion removes them. Under dry run nothing is written: the
filesets are created and linked through the API (and so recorded) and the copying is left out.

The emulator's own bookkeeping attributes (``user.gpfskit.*``: a file's pool, replicas) are
never copied: a file laid out in a space is placed by the space's policy, not by the model's.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpfskit.api import Cluster, DependentFileset
from gpfskit.api.file import HIDDEN_PREFIX
from gpfskit.commands import getDryRun
from gpfskit.mgmt.provision.errors import FieldError, ProvisionError
from gpfskit.mgmt.provision.names import object_name
from gpfskit.mgmt.provision.settings import template_store
from gpfskit.mgmt.provision.undo import UndoLog
from gpfskit.policy import PlacementPolicy

log = logging.getLogger("gpfskit.mgmt.provision")

MANIFEST = "template.json"
TREE = "tree"
SNAPSHOT_DIR = ".snapshots"


@dataclass(frozen=True)
class TemplateFileset:
    """A dependent fileset of a template: where it sits in the tree and its pool."""

    path: str          # relative to the tree root
    pool: str
    model_fileset: str  # the model's fileset it was captured from


@dataclass(frozen=True)
class Template:
    """A captured template in the store."""

    id: str
    name: str
    location: str      # the template's directory in the store
    filesets: tuple[TemplateFileset, ...] = ()

    @property
    def tree(self) -> str:
        return os.path.join(self.location, TREE)


# -- copying with metadata ------------------------------------------------------------------

def _copy_xattrs(source: str, target: str) -> None:
    """Copy extended attributes (and so POSIX ACLs), except gpfskit's internal ones."""
    try:
        names = os.listxattr(source, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENODATA):
            return
        raise
    for name in names:
        if name.startswith(HIDDEN_PREFIX):
            continue
        try:
            value = os.getxattr(source, name, follow_symlinks=False)
            os.setxattr(target, name, value, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.EPERM, errno.ENODATA, errno.EINVAL):
                raise
            log.debug("extended attribute %s of %s not copied: %s", name, source, exc.strerror)


def _copy_metadata(source: str, target: str, info: os.stat_result) -> None:
    """Owner, extended attributes, mode and times of ``source`` onto ``target``."""
    is_link = stat.S_ISLNK(info.st_mode)
    try:
        os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
    except PermissionError:
        log.debug("owner of %s not copied (not permitted)", source)
    if not is_link:
        _copy_xattrs(source, target)
        os.chmod(target, stat.S_IMODE(info.st_mode))
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)


def copy_entry(source: str, target: str) -> bool:
    """Copy one non-directory entry with its metadata; False when it is of a kind that is not
    copied (devices, sockets: they belong to no layout)."""
    info = os.lstat(source)
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISREG(info.st_mode):
        shutil.copyfile(source, target, follow_symlinks=False)
    elif stat.S_ISFIFO(info.st_mode):
        os.mkfifo(target)
    else:
        log.warning("skipped %s: not a file, directory, link or fifo", source)
        return False
    _copy_metadata(source, target, info)
    return True


def _entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return sorted((e for e in it if e.name != SNAPSHOT_DIR), key=lambda e: e.name)


# -- capturing --------------------------------------------------------------------------------

def _model_filesets(model: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The file system holding ``model`` and the (relative path, fileset name) of every
    fileset linked strictly inside it."""
    for filesystem in Cluster().filesystems.values():
        mount = filesystem.mountPoint
        if not mount or not (model == mount or model.startswith(mount.rstrip("/") + "/")):
            continue
        inside = []
        for fileset in filesystem.filesets.values():
            junction = fileset.path
            if junction and junction.startswith(model.rstrip("/") + "/"):
                inside.append((os.path.relpath(junction, model), fileset.name))
        return filesystem.name, sorted(inside)
    return None, []


def _pool_of(policy: PlacementPolicy | None, fileset: str, pools: list[str]) -> str:
    if policy is not None:
        pool = policy.pool_for_fileset(fileset)
        if pool:
            return pool
    prefix = fileset.split("-", 1)[0]
    return prefix if prefix in pools else (pools[0] if pools else "system")


def capture_template(name: str, model: str, store: str | None = None) -> Template:
    """Copy the model tree at ``model`` into the template store as template ``name``.

    FieldError (``template_location``) when the model is not an existing directory.
    Under dry run the model is examined but nothing is written.
    """
    object_name(name, "name")
    if not isinstance(model, str) or not os.path.isabs(model):
        raise FieldError("template_location", f"must be an absolute path, not {model!r}")
    model = os.path.normpath(model)
    if not os.path.isdir(model):
        raise FieldError("template_location", f"model directory {model} does not exist")
    store = store or template_store()
    filesystem, inside = _model_filesets(model)
    policy = PlacementPolicy(filesystem) if filesystem else None
    pools = list(Cluster().filesystems[filesystem].pools) if filesystem else []
    filesets = tuple(TemplateFileset(rel, _pool_of(policy, fs_name, pools), fs_name)
                     for rel, fs_name in inside)
    template_id = uuid.uuid4().hex
    location = os.path.join(store, template_id)
    template = Template(template_id, name, location, filesets)
    if getDryRun():
        return template
    os.makedirs(store, exist_ok=True)
    partial = os.path.join(store, f".{template_id}.partial")
    try:
        os.makedirs(partial)
        _copy_tree(model, os.path.join(partial, TREE))
        manifest = {"id": template_id, "name": name, "model": model,
                    "filesystem": filesystem,
                    "filesets": [vars(f) for f in filesets]}
        with open(os.path.join(partial, MANIFEST), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
        os.rename(partial, location)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.info("captured template %s from %s: %d filesets (%s)", name, model, len(filesets),
             ", ".join(f"{f.path} -> {f.pool}" for f in filesets) or "none")
    return template


def _copy_tree(source: str, target: str) -> None:
    """A full copy of a directory tree with metadata (the target must not exist)."""
    info = os.lstat(source)
    os.mkdir(target)
    for entry in _entries(source):
        if entry.is_dir(follow_symlinks=False):
            _copy_tree(entry.path, os.path.join(target, entry.name))
        else:
            copy_entry(entry.path, os.path.join(target, entry.name))
    _copy_metadata(source, target, info)


def load_template(location: str) -> Template:
    """The template stored at ``location`` (ProvisionError when it is not a template)."""
    try:
        with open(os.path.join(location, MANIFEST), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ProvisionError(f"{location} is not a captured template: {exc}") from None
    filesets = tuple(TemplateFileset(f["path"], f["pool"], f["model_fileset"])
                     for f in data.get("filesets", ()))
    return Template(data["id"], data["name"], location, filesets)


def delete_template(template: Template) -> None:
    """Remove a template from the store (nothing under dry run)."""
    if getDryRun():
        return
    shutil.rmtree(template.location, ignore_errors=False)


# -- laying out -------------------------------------------------------------------------------

def dependent_fileset_name(pool: str, space: str, taken: Any) -> str:
    """``<pool>-<space>-<8 hex>``, not among ``taken``."""
    for _ in range(16):
        name = f"{pool}-{space}-{secrets.token_hex(4)}"
        if name not in taken:
            return name
    raise ProvisionError(f"could not find a free fileset name for {pool}-{space}-...")


@dataclass
class Layout:
    """Where a template is being laid out: the space, its fileset and the undo log."""

    filesystem: str
    space_name: str
    space_fileset: str
    root: str          # the space's directory (its junction)
    marker: str        # the comment of every fileset the operation creates
    undo: UndoLog
    created: list[str]  # names of the dependent filesets created so far


def lay_out(template: Template, layout: Layout) -> None:
    """Lay ``template`` out under ``layout.root`` (merging with what is there already)."""
    by_path = {f.path: f for f in template.filesets}
    _lay_dir(template.tree, layout.root, "", by_path, layout, top=True)


def _lay_dir(source: str, target: str, rel: str, by_path: dict[str, TemplateFileset],
             layout: Layout, *, top: bool = False) -> None:
    dry = getDryRun()
    if not top:
        fileset = by_path.get(rel)
        if fileset is not None:
            _new_dependent(fileset, target, layout)
        elif not dry:
            if os.path.lexists(target) and not os.path.isdir(target):
                raise ProvisionError(f"{target} exists and is not a directory")
            if not os.path.isdir(target):
                os.mkdir(target)
    for entry in (_entries(source) if os.path.isdir(source) else []):
        child_rel = os.path.join(rel, entry.name) if rel else entry.name
        child_target = os.path.join(target, entry.name)
        if entry.is_dir(follow_symlinks=False):
            _lay_dir(entry.path, child_target, child_rel, by_path, layout)
        elif not dry:
            if os.path.lexists(child_target):
                raise ProvisionError(f"{child_target} already exists; templates may share "
                                     "directories but not files")
            copy_entry(entry.path, child_target)
    if not dry:
        _copy_metadata(source, target, os.lstat(source))


def _new_dependent(fileset: TemplateFileset, junction: str, layout: Layout) -> None:
    filesets = Cluster().filesystems[layout.filesystem].filesets
    name = dependent_fileset_name(fileset.pool, layout.space_name, filesets)
    dependent = DependentFileset(layout.filesystem, name, layout.marker,
                                 inodeSpace=layout.space_fileset)
    layout.undo.record("create_fileset", filesystem=layout.filesystem, fileset=name,
                       marker=layout.marker)
    dependent.create()
    layout.created.append(name)
    layout.undo.record("link_fileset", filesystem=layout.filesystem, fileset=name,
                       marker=layout.marker)
    dependent.link(junction)
    log.info("dependent fileset %s (pool %s) linked at %s", name, fileset.pool, junction)


def stored_templates(store: str | None = None) -> list[Template]:
    """Every template in the store, by name."""
    root = Path(store or template_store())
    if not root.is_dir():
        return []
    found = [load_template(str(p)) for p in root.iterdir()
             if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()]
    return sorted(found, key=lambda t: t.name)
