"""The part-2 resources' checks and tasks: templates, spaces, snapshots, profiles, exposers.

Imported on start (:data:`gpfskit.mgmt.resources.BUILTIN_MODULES`). For each resource:

* a check run before an item is stored (POST, PATCH) or a delete is accepted, refusing bad
  input with a 422 naming the field and a refused delete with a 409 and the reason;
* the tasks the job engine runs (``create``, ``change``, ``delete``), each a thin wrapper
  that loads the item and calls the provisioning operation, recording what it made;
* the same operation as a ``plan`` for ``?dry_run=true``: run under dry run on the item as
  it would be, it yields the admin commands the job would run.

A space's create job keeps its undo log in the job's ``extras`` as it grows; when a worker
dies mid-space the job runs again (it is retry-safe): it first rolls back what the
interrupted attempt did, then creates the space afresh, so the space ends ACTIVE, or ERRORED
and rolled back, never half made.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gpfskit.api import Cluster, NfsClient
from gpfskit.api.exports import share_name, smb_option
from gpfskit.mgmt import models, store
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.errors import APIError
from gpfskit.mgmt.errors import FieldError as APIFieldError
from gpfskit.mgmt.provision import exposers, profiles, snapshots, spaces, templates
from gpfskit.mgmt.provision.errors import FieldError, ProvisionError, RefusedError
from gpfskit.mgmt.provision.names import object_name, relative_path, size_bytes, within
from gpfskit.mgmt.provision.profiles import existing_filesystem
from gpfskit.mgmt.provision.undo import UndoLog

log = logging.getLogger("gpfskit.mgmt.provision")

TEMPLATE_TYPES = ("filesystemtemplate",)
SPACE_SNAPSHOT = "gpfsspacesnapshot"
GLOBAL_SNAPSHOTS = ("gpfsglobalsnapshot", "gpfsfilesystemsnapshot")
BUILDING = (models.NEW, models.PENDING, models.INPROGRESS)


@contextmanager
def _as_api_errors(prefix: str = "") -> Iterator[None]:
    """Provisioning errors as the API's: a bad field is a 422, a refusal a 409."""
    try:
        yield
    except FieldError as exc:
        raise APIFieldError(prefix + exc.field, exc.message) from None
    except RefusedError as exc:
        raise APIError(409, str(exc)) from None


def _extras(item: Any) -> dict[str, Any]:
    try:
        value = json.loads(item.extras or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _load(model: type, item_id: str, s: Session) -> Any:
    item = s.get(model, item_id)
    if item is None:
        raise ProvisionError(f"{model.__tablename__[:-1]} {item_id} is not in the store")
    return item


def _job_options(s: Session, job_id: str) -> dict[str, Any]:
    job = s.get(models.Job, job_id)
    return _extras(job) if job is not None else {}


def _register(resource: str, check: Callable | None, actions: dict[str, tuple]) -> None:
    if check is not None:
        registry.add_check(resource, check)
    for action, (task, plan, retry_safe) in actions.items():
        registry.add_task(resource, action, task, plan=plan, retry_safe=retry_safe)


# -- templates --------------------------------------------------------------------------------

def _check_template(s: Session, item: models.Template, values: dict, action: str) -> None:
    if action == "delete":
        users = s.scalars(select(models.Space).where(
            models.Space.templates.any(models.Template.id == item.id),
            models.Space.status.in_(BUILDING))).all()
        if users:
            raise APIError(409, f"template {item.name} is being laid out in space "
                                f"{users[0].name}: wait for it to finish")
        return
    if action != "create":
        return
    if item.type not in TEMPLATE_TYPES:
        raise APIFieldError("type", f"must be one of {', '.join(TEMPLATE_TYPES)}, not "
                                    f"{json.dumps(item.type)}")
    location = item.template_location
    if not isinstance(location, str) or not os.path.isabs(location):
        raise APIFieldError("template_location", "must be the absolute path of the model "
                                                 "directory")
    if not os.path.isdir(location):
        raise APIFieldError("template_location", f"model directory {location} does not exist")


def _capture(item: models.Template) -> templates.Template:
    with _as_api_errors():
        return templates.capture_template(item.name, item.template_location)


def _create_template(item_id: str, job_id: str) -> None:
    with store.session() as s:
        item = _load(models.Template, item_id, s)
        name, location = item.name, item.template_location
    captured = templates.capture_template(name, location)
    with store.session() as s:
        item = _load(models.Template, item_id, s)
        item.store_path, item.template_location = captured.location, None


def _delete_template(item_id: str, job_id: str) -> None:
    with store.session() as s:
        path = _load(models.Template, item_id, s).store_path
    if path and os.path.isdir(path):
        templates.delete_template(templates.load_template(path))


# -- profiles ---------------------------------------------------------------------------------

def _int_pair(value: Any) -> tuple[int, int] | None:
    return tuple(value) if isinstance(value, list | tuple) else value


def profile_of(item: models.Profile) -> profiles.Profile:
    """The provisioning profile of a store item; ``rules`` is JSON text::

        {"ilm_steps": [{"source": "sas1", "target": "sata1", "older_than_days": 30,
                        "larger_than": null, "name_pattern": null, "threshold": [80, 60]}],
         "placement_controls": [{"pool": "system", "name_patterns": ["*.db"],
                                 "min_size": null, "max_size": 1048576}]}
    """
    text = item.rules or ""
    try:
        rules = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise FieldError("rules", f"is not valid JSON ({exc})") from None
    if not isinstance(rules, dict) or set(rules) - {"ilm_steps", "placement_controls"}:
        raise FieldError("rules", 'must be a JSON object with "ilm_steps" and/or '
                         '"placement_controls" lists')
    steps, controls = [], []
    try:
        for index, step in enumerate(rules.get("ilm_steps") or []):
            if not isinstance(step, dict):
                raise FieldError(f"rules.ilm_steps[{index}]", "must be an object")
            steps.append(profiles.MigrationStep(**{**step,
                                                   "threshold": _int_pair(step.get("threshold"))}))
        for index, control in enumerate(rules.get("placement_controls") or []):
            if not isinstance(control, dict):
                raise FieldError(f"rules.placement_controls[{index}]", "must be an object")
            patterns = control.get("name_patterns") or ()
            if isinstance(patterns, str):
                patterns = (patterns,)
            controls.append(profiles.PlacementControl(**{**control,
                                                         "name_patterns": tuple(patterns)}))
    except TypeError as exc:
        raise FieldError("rules", f"unknown or missing setting: {exc}") from None
    return profiles.Profile(item.name, item.filesystem, item.pool, tuple(steps),
                            tuple(controls))


def _check_profile(s: Session, item: models.Profile, values: dict, action: str) -> None:
    if action == "delete":
        users = s.scalars(select(models.Space).where(models.Space.profile_id == item.id)).all()
        if users:
            raise APIError(409, f"profile {item.name} is in use by space {users[0].name}")
        return
    with _as_api_errors():
        try:
            profiles.check_profile(profile_of(item))
        except FieldError as exc:
            if exc.field.startswith(("ilm_steps", "placement_controls")):
                raise FieldError(f"rules.{exc.field}", exc.message) from None
            raise


def _install_profile(item_id: str, job_id: str) -> None:
    with store.session() as s:
        profile = profile_of(_load(models.Profile, item_id, s))
    change = profiles.install_profile(profile)
    log.info("profile %s installed: added %s", profile.name, ", ".join(change.added) or "-")


def _remove_profile(item_id: str, job_id: str) -> None:
    with store.session() as s:
        profile = profile_of(_load(models.Profile, item_id, s))
    profiles.remove_profile(profile)


def _plan_profile(s: Session, item: models.Profile, options: dict) -> None:
    with _as_api_errors():
        profiles.install_profile(profile_of(item))


def _plan_profile_removal(s: Session, item: models.Profile, options: dict) -> None:
    with _as_api_errors():
        profiles.remove_profile(profile_of(item))


# -- spaces -----------------------------------------------------------------------------------

def _space_filesystem(item: models.Space) -> str:
    systems = {e.filesystem for e in item.exposers}
    if len(systems) != 1:
        raise FieldError("exposers", "all exposers of a space must be of one file system "
                         f"(got {', '.join(sorted(systems)) or 'none'})")
    return systems.pop()


def _space_root(item: models.Space) -> str:
    """The directory a space's ``relativepath`` is under: the deepest of its exposers' roots
    (a file system's mount point, an NFS or SMB exposer's directory). A fileset is linked at
    one place, so the roots must nest: then the space is reached under every exposer."""
    roots = sorted({os.path.normpath(r) for r in
                    (e.mountpoint if e.type == "gpfsnative" else e.path for e in item.exposers)
                    if r}, key=len)
    if not roots:
        raise FieldError("exposers", "none of the exposers has a mount point or a path")
    deepest = roots[-1]
    for root in roots[:-1]:
        if not within(deepest, root):
            raise FieldError("exposers", f"a space is linked at one place, under each of its "
                             f"exposers: {root} and {deepest} are not one inside the other")
    return deepest


def _refuse_while_used(what: str, users: list[str], remedy: str) -> None:
    if users:
        raise APIError(409, f"{what} ({', '.join(users)}); {remedy}")


def _check_space(s: Session, item: models.Space, values: dict, action: str) -> None:
    if action == "delete":
        _refuse_while_used(f"space {item.name} has snapshots", [t.name for t in s.scalars(
            select(models.Snapshot).where(models.Snapshot.space_id == item.id))],
            "delete them first")
        _refuse_while_used(f"space {item.name} is shared by exposers", [e.name for e in
            s.scalars(select(models.Exposer).where(models.Exposer.space_id == item.id))],
            "delete them first")
        _refuse_while_used(f"space {item.name} holds dependent spaces", [d.name for d in
            s.scalars(select(models.Space).where(models.Space.parent_id == item.id))],
            "delete them first")
        if item.fileset and not values.get("force"):
            fs = existing_filesystem(item.filesystem)
            fileset = fs.filesets.get(item.fileset)
            if fileset is not None and spaces.holds_data(fileset.path):
                raise APIError(409, f"space {item.name} holds data at {fileset.path}; "
                                    "delete it with ?force=true to remove the data too")
        return
    if action == "change":
        if "size" in values and (values["size"] is None or values["size"] <= 0):
            raise APIFieldError("size", "must be a positive whole number of bytes")
        return
    with _as_api_errors():
        relative_path(item.relativepath)
        size_bytes(item.size, "size")
        filesystem = _space_filesystem(item)
        path = os.path.join(_space_root(item), item.relativepath)
        parent = item.parent
        if parent is not None:
            _check_parent(parent, filesystem, path)
        profile = item.profile
        if profile.filesystem != filesystem:
            raise FieldError("profile", f"profile {profile.name} places data on file system "
                             f"{profile.filesystem}, not on {filesystem} of the exposers")
        for template in item.templates:
            if template.status != models.ACTIVE or not template.store_path:
                raise FieldError("templates", f"template {template.name} is not ACTIVE")
        twin = s.scalars(select(models.Space).where(
            models.Space.name == item.name, models.Space.profile_id == profile.id,
            models.Space.id != item.id)).first()
        if twin is not None:
            raise FieldError("name", f"a space named {item.name} with profile {profile.name} "
                             "exists already")
        fileset = spaces.space_fileset_name(profile.pool, item.name)
        clash = s.scalars(select(models.Space).where(
            models.Space.filesystem == filesystem, models.Space.fileset == fileset,
            models.Space.id != item.id)).first()
        if clash is not None:
            raise FieldError("name", f"fileset {fileset} belongs to space {clash.name}")
        others = s.scalars(select(models.Space).where(
            models.Space.filesystem == filesystem, models.Space.id != item.id,
            models.Space.status != models.ERRORED)).all()
        for other in others:
            if other.path and within(path, other.path) and other is not parent:
                raise FieldError("relativepath", f"{item.relativepath} ({path}) is inside "
                                 f"space {other.name} ({other.path})")
        item.filesystem, item.fileset, item.path = filesystem, fileset, path


def _check_parent(parent: models.Space, filesystem: str, path: str) -> None:
    if parent.status != models.ACTIVE or not parent.fileset or not parent.path:
        raise FieldError("parent", f"space {parent.name} is not ACTIVE")
    if parent.parent_id is not None:
        raise FieldError("parent", f"space {parent.name} is itself a dependent space: a "
                         "dependent space is made in an independent one")
    if parent.filesystem != filesystem:
        raise FieldError("parent", f"space {parent.name} is on file system "
                         f"{parent.filesystem}, not on {filesystem} of the exposers")
    if path == parent.path or not within(path, parent.path):
        raise FieldError("relativepath", f"{path} is not inside the parent space "
                         f"{parent.name} ({parent.path})")


def _space_operation(item: models.Space, job_id: str | None,
                     on_undo_change: Callable[[list[dict]], None] | None) -> spaces.SpaceResult:
    filesystem = _space_filesystem(item)
    laid = [templates.load_template(t.store_path) for t in item.templates]
    return spaces.create_space(item.name, filesystem, profile_of(item.profile),
                               item.relativepath, item.size, laid,
                               parent=item.parent.fileset if item.parent else None,
                               root=_space_root(item), marker=f"space {item.id}",
                               on_undo_change=on_undo_change)


def _persist_undo(job_id: str) -> Callable[[list[dict]], None]:
    def save(entries: list[dict]) -> None:
        with store.session() as s:
            job = s.get(models.Job, job_id)
            extras = _extras(job)
            extras["undo"] = entries
            job.extras = json.dumps(extras, sort_keys=True)
    return save


def _create_space(item_id: str, job_id: str) -> None:
    with store.session() as s:
        interrupted = _job_options(s, job_id).get("undo") or []
    if interrupted:
        log.warning("rolling back the %d steps of an interrupted attempt", len(interrupted))
        problems = UndoLog(interrupted, on_change=_persist_undo(job_id)).rollback()
        if problems:
            raise ProvisionError("the interrupted attempt could not be rolled back: "
                                 + "; ".join(problems))
    with store.session() as s:
        item = _load(models.Space, item_id, s)
        for relation in ("exposers", "templates", "profile", "parent"):
            getattr(item, relation)
        s.expunge(item)
    result = _space_operation(item, job_id, _persist_undo(job_id))
    _persist_undo(job_id)([])
    with store.session() as s:
        stored = _load(models.Space, item_id, s)
        stored.filesystem, stored.fileset, stored.path = (result.filesystem, result.fileset,
                                                          result.path)


def _plan_space(s: Session, item: models.Space, options: dict) -> None:
    with _as_api_errors():
        _space_operation(item, None, None)


def _resize(item: models.Space) -> None:
    with _as_api_errors():
        spaces.resize_space(item.filesystem, item.fileset, item.size)


def _resize_space(item_id: str, job_id: str) -> None:
    with store.session() as s:
        item = _load(models.Space, item_id, s)
    _resize(item)


def _delete(item: models.Space, force: bool) -> None:
    if not item.fileset:
        return
    filesets = existing_filesystem(item.filesystem).filesets
    if item.fileset not in filesets:
        log.info("fileset %s is gone already", item.fileset)
        return
    with _as_api_errors():
        spaces.delete_space(item.filesystem, item.fileset, force=force)


def _delete_space(item_id: str, job_id: str) -> None:
    with store.session() as s:
        item = _load(models.Space, item_id, s)
        force = bool(_job_options(s, job_id).get("force"))
    _delete(item, force)


# -- snapshots --------------------------------------------------------------------------------

def _check_snapshot(s: Session, item: models.Snapshot, values: dict, action: str) -> None:
    if action != "create":
        return
    if item.type == SPACE_SNAPSHOT:
        if item.space is None:
            raise APIFieldError("space", "a gpfsspacesnapshot needs the space it is of")
        if item.space.status != models.ACTIVE or not item.space.fileset:
            raise APIFieldError("space", f"space {item.space.name} is not ACTIVE")
        if item.space.parent is not None:
            raise APIFieldError("space", f"space {item.space.name} is a dependent space: it "
                                f"shares the inode space of {item.space.parent.name}; "
                                "snapshot that space")
        item.filesystem, item.fileset = item.space.filesystem, item.space.fileset
    elif item.type in GLOBAL_SNAPSHOTS:
        if item.exposer is None or item.exposer.type != "gpfsnative":
            raise APIFieldError("exposer", f"a {item.type} needs the gpfsnative exposer of "
                                           "its file system")
        item.filesystem, item.fileset = item.exposer.filesystem, None
    else:
        raise APIFieldError("type", f"must be {SPACE_SNAPSHOT} or one of "
                                    f"{', '.join(GLOBAL_SNAPSHOTS)}, not {json.dumps(item.type)}")
    twin = s.scalars(select(models.Snapshot).where(
        models.Snapshot.filesystem == item.filesystem, models.Snapshot.name == item.name,
        models.Snapshot.fileset.is_(item.fileset) if item.fileset is None
        else models.Snapshot.fileset == item.fileset, models.Snapshot.id != item.id)).first()
    if twin is not None:
        raise APIFieldError("name", f"snapshot {item.name} exists already there")
    with _as_api_errors():
        object_name(item.name, "name")


def _snapshot_op(item: models.Snapshot) -> snapshots.SnapshotResult:
    with _as_api_errors():
        return snapshots.create_snapshot(item.filesystem, item.name, item.fileset)


def _create_snapshot(item_id: str, job_id: str) -> None:
    with store.session() as s:
        item = _load(models.Snapshot, item_id, s)
    result = _snapshot_op(item)
    with store.session() as s:
        _load(models.Snapshot, item_id, s).path = result.location


def _delete_snapshot(item_id: str, job_id: str) -> None:
    with store.session() as s:
        item = _load(models.Snapshot, item_id, s)
    _remove_snapshot(item)


def _remove_snapshot(item: models.Snapshot) -> None:
    with _as_api_errors():
        snapshots.delete_snapshot(item.filesystem, item.name, item.fileset)


# -- exposers ---------------------------------------------------------------------------------

def _filesystem_of_path(path: str) -> str:
    for fs in Cluster().filesystems.values():
        mount = fs.mountPoint
        if mount and within(path, mount):
            return fs.name
    raise FieldError("path", f"{path} is not inside a file system of the cluster")


def _check_exposer(s: Session, item: models.Exposer, values: dict, action: str) -> None:
    if action == "delete":
        if item.type == "gpfsnative":
            raise APIError(409, f"exposer {item.name} is the file system {item.filesystem} "
                                "itself (discovered): it cannot be deleted")
        _refuse_while_used(f"exposer {item.name} is how spaces are reached", [
            space.name for space in s.scalars(select(models.Space).where(
                models.Space.exposers.any(models.Exposer.id == item.id)))],
            "delete the spaces first")
        return
    if action != "create":
        return
    if item.type not in ("nfs", "smb"):
        raise APIFieldError("type", "nfs or smb (gpfsnative exposers are discovered, not "
                                    f"created), not {json.dumps(item.type)}")
    with _as_api_errors():
        if item.space is not None:
            _share_space(item)
        if not isinstance(item.path, str) or not os.path.isabs(item.path) or \
                not os.path.isdir(item.path):
            raise FieldError("path", f"must be an existing directory, not {item.path!r}")
        item.path = os.path.normpath(item.path)
        item.filesystem = _filesystem_of_path(item.path)
        item.mountpoint = item.path
        extras = _extras(item)
        if item.type == "nfs":
            for index, client in enumerate(extras.get("clients") or []):
                if not isinstance(client, dict):
                    raise FieldError(f"extras.clients[{index}]", "must be an object")
                try:
                    NfsClient(client.get("client", "*"),
                                       {k: v for k, v in client.items() if k != "client"})
                except ValueError as exc:
                    raise FieldError(f"extras.clients[{index}]", str(exc)) from None
        else:
            try:
                share_name(item.name)
                for key, value in (extras.get("options") or {}).items():
                    smb_option(key, value)
            except ValueError as exc:
                raise FieldError("extras.options" if "option" in str(exc) else "name",
                                 str(exc)) from None


def _share_space(item: models.Exposer) -> None:
    """An exposer made for a space shares the space's junction."""
    if item.path is not None:
        raise FieldError("path", "give the space to share or a path, not both")
    if item.space.status != models.ACTIVE or not item.space.path:
        raise FieldError("space", f"space {item.space.name} is not ACTIVE")
    item.path = item.space.path


def _expose(item: models.Exposer) -> None:
    extras = _extras(item)
    with _as_api_errors():
        if item.type == "nfs":
            exposers.create_nfs_exposer(item.id, item.path, extras.get("clients") or [])
        else:
            exposers.create_smb_exposer(item.id, item.name, item.path,
                                        extras.get("options") or {})


def _unexpose(item: models.Exposer) -> None:
    with _as_api_errors():
        if item.type == "nfs":
            exposers.delete_nfs_exposer(item.id, item.path)
        else:
            exposers.delete_smb_exposer(item.id, item.name)


def _item_task(model: type, operation: Callable[[Any], Any]) -> Callable[[str, str], None]:
    def task(item_id: str, job_id: str) -> None:
        with store.session() as s:
            item = _load(model, item_id, s)
        operation(item)
    return task


def _item_plan(operation: Callable[[Any], Any]) -> Callable[[Session, Any, dict], None]:
    def plan(s: Session, item: Any, options: dict) -> None:
        operation(item)
    return plan


# -- registration -----------------------------------------------------------------------------

snapshot_resource = registry.get("snapshots")
if snapshot_resource.relation("exposer") is None:
    snapshot_resource.relations.append(registry.Relation(
        "exposer", "exposer (file system) of a global snapshot", "exposers", template=True))
    snapshot_resource.fields.append(registry.Field(
        "path", "where the snapshot's files can be read"))

_register("templates", _check_template, {
    "create": (_create_template, lambda s, item, o: _capture(item), False),
    "delete": (_delete_template, lambda s, item, o: None, True),
})
_register("profiles", _check_profile, {
    "create": (_install_profile, _plan_profile, True),
    "change": (_install_profile, _plan_profile, True),
    "delete": (_remove_profile, _plan_profile_removal, True),
})
_register("spaces", _check_space, {
    "create": (_create_space, _plan_space, True),
    "change": (_resize_space, _item_plan(_resize), True),
    "delete": (_delete_space, lambda s, item, o: _delete(item, bool(o.get("force"))), False),
})
_register("snapshots", _check_snapshot, {
    "create": (_create_snapshot, _item_plan(_snapshot_op), False),
    "delete": (_delete_snapshot, _item_plan(_remove_snapshot), True),
})
_register("exposers", _check_exposer, {
    "create": (_item_task(models.Exposer, _expose), _item_plan(_expose), False),
    "delete": (_item_task(models.Exposer, _unexpose), _item_plan(_unexpose), True),
})
