"""Creating, changing and deleting items from submitted documents.

The checks run before anything is stored: unknown fields, wrong types, bad names, missing
references and duplicates are refused with a 422 naming the field, and nothing changes.
Writes that reach the cluster go through a job (202); store-only resources are written
directly.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gpfskit.mgmt import cj, models
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.errors import APIError, FieldError, invalid
from gpfskit.mgmt.jobs import records
from gpfskit.mgmt.resources import Resource

BUSY = (models.PENDING, models.INPROGRESS, models.DELETING)


def _scalar_check(name: str, value: Any, many: bool = False) -> None:
    if isinstance(value, dict | list) and not (many and isinstance(value, list)):
        raise FieldError(name, "must be a scalar value (lists travel as comma-separated text)")


def _resolve(s: Session, relation: registry.Relation, value: Any) -> Any:
    target = registry.get(relation.target)
    ids = cj.reference_ids(relation.name, relation.target, value)
    if not relation.many and len(ids) > 1:
        raise FieldError(relation.name, "takes one reference, not several")
    found = []
    for ref in ids:
        obj = s.get(target.model, ref)
        if obj is None and _unique_name(target.model):  # also by name, where names are unique
            obj = s.scalars(select(target.model).where(target.model.name == ref)).first()
        if obj is None:
            raise FieldError(relation.name, f"no {target.singular} {ref}")
        found.append(obj)
    if relation.many:
        return found
    return found[0] if found else None


def _unique_name(model: type) -> bool:
    return any(isinstance(c, UniqueConstraint) and [col.name for col in c.columns] == ["name"]
               for c in model.__table__.constraints)


def _apply(s: Session, resource: Resource, item: Any, values: dict[str, Any],
           accepted: set[str], action: str) -> list[FieldError]:
    """Check and set ``values`` on ``item``; returns the field errors (nothing set then)."""
    errors: list[FieldError] = []
    fields = resource.fields_by_name()
    converted: dict[str, Any] = {}
    for name, value in values.items():
        if name not in accepted:
            known = name in fields or resource.relation(name) is not None
            errors.append(FieldError(name, "cannot be changed" if known and action == "change"
                                     else "is read-only" if known else "unknown field"))
            continue
        relation = resource.relation(name)
        try:
            _scalar_check(name, value, many=bool(relation and relation.many))
            if relation is not None:
                converted[name] = _resolve(s, relation, value)
            else:
                convert = fields[name].convert
                converted[name] = convert(value) if convert else value
        except FieldError as exc:
            errors.append(exc)
    if action == "create":
        for name in resource.template_names():
            field = fields.get(name) or resource.relation(name)
            missing = converted.get(name) in (None, "", [])
            if field.required and missing and not any(e.field == name for e in errors):
                errors.append(FieldError(name, "is required"))
    if errors:
        return errors
    for name, value in converted.items():
        field = fields.get(name)
        if field is not None and field.assign is not None:
            field.assign(item, value)
        else:
            setattr(item, name, value)
    if _unique_name(resource.model) and "name" in converted:
        clash = s.scalars(select(resource.model).where(
            resource.model.name == item.name, resource.model.id != item.id)).first()
        if clash is not None:
            return [FieldError("name", f"a {resource.singular} named {item.name} exists "
                                       "already")]
    for check in resource.checks:
        try:
            check(s, item, converted, action)
        except FieldError as exc:
            errors.append(exc)
    return errors


def create(s: Session, resource: Resource, values: dict[str, Any], requester: str
           ) -> tuple[Any, models.Job | None]:
    """Store a new item; returns it and the job that creates it on the cluster (if any)."""
    if not resource.creatable:
        raise APIError(405, f"{resource.name} cannot be created through the API")
    accepted = {*resource.template_names(), *resource.also_writable,
                *registry.COMMON_WRITABLE}
    item = resource.model(status=models.NEW, status_message="submitted")
    with s.no_autoflush:
        errors = _apply(s, resource, item, values, accepted, "create")
    if errors:
        s.expunge_all()
        raise invalid(errors)
    task = resource.tasks.get("create")
    if resource.cluster and task is None:
        s.expunge_all()
        raise APIError(501, f"creating {resource.name} on the cluster is not available here")
    if task is None:
        item.status, item.status_message = models.ACTIVE, "ready"
    s.add(item)
    try:
        s.flush()
    except IntegrityError:  # a concurrent twin was stored first (a unique constraint)
        s.rollback()
        raise invalid([FieldError("name", f"a {resource.singular} named {item.name} with "
                                          "the same references exists already")]) from None
    if task is None:
        return item, None
    return item, records.new_job(s, "create", requester, resource.name, item)


def change(s: Session, resource: Resource, item: Any, values: dict[str, Any], requester: str
           ) -> models.Job | None:
    """Apply a PATCH; returns the job when the change goes to the cluster."""
    if item.status in BUSY:
        raise APIError(409, f"{resource.singular} {item.id} is {item.status}: wait for its "
                            "job to finish")
    if "status" in values:
        return _retry(s, resource, item, values, requester)
    accepted = ({f.name for f in resource.fields if f.changeable}
                | {r.name for r in resource.relations if r.changeable}) - {"status"}
    with s.no_autoflush:
        errors = _apply(s, resource, item, values, accepted, "change")
    if errors:
        s.rollback()
        raise invalid(errors, insert=False)
    task = resource.tasks.get("change")
    touches_cluster = set(values) - set(registry.COMMON_WRITABLE)
    if task is not None and touches_cluster:
        return records.new_job(s, "change", requester, resource.name, item)
    return None


def _retry(s: Session, resource: Resource, item: Any, values: dict[str, Any],
           requester: str) -> models.Job:
    """``{"status": "NEW"}`` on an ERRORED item submits its failed job again."""
    if set(values) != {"status"} or values["status"] != models.NEW:
        raise invalid([FieldError("status", 'only {"status": "NEW"} can be set (to retry an '
                                            'ERRORED item), and on its own')], insert=False)
    if item.status != models.ERRORED:
        raise invalid([FieldError("status", f"only an ERRORED item can be retried; this one "
                                            f"is {item.status}")], insert=False)
    last = s.scalars(select(models.Job).where(
        models.Job.resource_type == resource.name, models.Job.resource_id == item.id)
        .order_by(models.Job.submitted.desc())).first()
    action = last.type if last is not None else "create"
    if action not in resource.tasks:
        raise APIError(501, f"no task can retry {action} of {resource.name}")
    return records.new_job(s, action, requester, resource.name, item)


def delete(s: Session, resource: Resource, item: Any, requester: str,
           options: dict[str, Any] | None = None) -> models.Job | None:
    """Delete an item (through a job when it is on the cluster); ``options`` (``force``)
    are checked by the resource's checks and kept in the job's ``extras`` for its task."""
    if not resource.deletable:
        raise APIError(405, f"{resource.name} cannot be deleted through the API")
    if item.status in BUSY:
        raise APIError(409, f"{resource.singular} {item.id} is {item.status}: wait for its "
                            "job to finish")
    options = options or {}
    errors = []
    for check in resource.checks:
        try:
            check(s, item, options, "delete")
        except FieldError as exc:
            errors.append(exc)
    if errors:
        raise invalid(errors, insert=False)
    if not resource.cluster:
        s.delete(item)
        return None
    if "delete" not in resource.tasks:
        raise APIError(501, f"deleting {resource.name} on the cluster is not available here")
    job = records.new_job(s, "delete", requester, resource.name, item)
    if options:
        job.extras = json.dumps(options, sort_keys=True)
    return job


def submit_job_type(s: Session, values: dict[str, Any], requester: str) -> models.Job:
    """``POST /jobs/ {"type": "populate"}``."""
    unknown = sorted(set(values) - {"type", "comment"})
    errors = [FieldError(name, "unknown field") for name in unknown]
    job_type = values.get("type")
    if job_type not in registry.JOB_TYPES:
        errors.append(FieldError("type", f"unknown job type {job_type!r} (known: "
                                         f"{', '.join(sorted(registry.JOB_TYPES))})"))
    comment = values.get("comment", "")
    if not isinstance(comment, str):
        errors.append(FieldError("comment", "must be text"))
    if errors:
        raise invalid(errors)
    job = records.new_job(s, job_type, requester)
    job.comment = comment
    return job
