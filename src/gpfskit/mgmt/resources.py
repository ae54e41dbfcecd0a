"""The resource registry: the one place an API resource is declared.

A :class:`Resource` says everything the platform needs to serve it: the model, the data
fields with their prompts (and which are writable), the relations rendered as links, the
queries offered as uri-templates, and the tasks that create, change or delete the object on
the cluster. The HTTP endpoints (:mod:`gpfskit.mgmt.routes`), the Collection+JSON documents
(:mod:`gpfskit.mgmt.cj`), the permissions (:mod:`gpfskit.mgmt.auth.roles`) and the jobs
(:mod:`gpfskit.mgmt.jobs`) are all built from it.

Extension point
---------------
A module that adds a resource or a task is imported on start: the built-in ones are listed
in :data:`BUILTIN_MODULES`, site ones in the directive ``gpfskit.management.plugins``. It
calls :func:`register` for a new resource and :func:`add_task` for a task::

    from gpfskit.mgmt import resources

    def create_space(item_id: str, job_id: str) -> None:
        with store.session() as s:          # the task opens its own session
            space = s.get(models.Space, item_id)
            ...                             # reach the cluster via gpfskit.api / gpfskit.policy
        # raise on failure: the platform marks the job and the item ERRORED with the reason

    resources.add_task("spaces", "create", create_space, retry_safe=False)
    resources.add_check("spaces", check_space)     # cross-field validation before saving

Tasks run inside a job (Huey): the platform moves the item NEW -> PENDING (job submitted)
-> INPROGRESS (running) -> ACTIVE, or ERRORED with the exception's text as
``status_message``; a successful ``delete`` task removes the row. Logging during a task goes
to the job's stderr, ``print`` to its stdout. ``retry_safe`` says whether a job interrupted
by a crash may simply run again; otherwise it is marked ERRORED with the reason.

A resource of cluster objects (``cluster=True``) answers a POST with 202 Accepted and a
``Location`` to poll, once it has a ``create`` task (501 until then); a resource that lives
only in the store (users, roles, groups) stores its items directly (ACTIVE, 201 Created).
Job types that belong to no resource (``POST /jobs/ {"type": "populate"}``) are added with
:func:`add_job_type`.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from gpfskit.mgmt import models
from gpfskit.mgmt.errors import FieldError

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
BUILTIN_MODULES: list[str] = ["gpfskit.mgmt.catalog", "gpfskit.mgmt.discovery",
                              "gpfskit.mgmt.provision.tasks"]

TaskFunction = Callable[[str, str], None]
Check = Callable[[Session, Any, dict[str, Any], str], None]
# plan(session, item, options): what the task does, run under dry run (``?dry_run=true``)
# on the item as it would be, to collect the admin commands the job would run.
Plan = Callable[[Session, Any, dict[str, Any]], None]


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise FieldError("name", "must be 1 to 255 letters, digits, hyphens or underscores "
                         f"(got {json.dumps(value)})")
    return value


def as_text(name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise FieldError(name, f"must be text, not {type(value).__name__}")
        if "\x00" in value:
            raise FieldError(name, "must not contain NUL characters")
        return value
    return convert


def as_int(name: str, minimum: int = 0) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise FieldError(name, "must be an integer, not a boolean")
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise FieldError(name, f"must be an integer (got {json.dumps(value)})")
        if value < minimum or value > 2**63 - 1:
            raise FieldError(name, f"must be between {minimum} and {2**63 - 1}")
        return value
    return convert


def as_json_object(name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, sort_keys=True)
        if value is None or value == "":
            return "{}"
        if not isinstance(value, str):
            raise FieldError(name, "must be a JSON object (or its text)")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise FieldError(name, f"is not valid JSON ({exc.msg})") from None
        if not isinstance(parsed, dict):
            raise FieldError(name, "must be a JSON object")
        return json.dumps(parsed, sort_keys=True)
    return convert


@dataclass
class Field:
    """A data field: a model column shown with ``prompt``.

    ``template`` puts it in the C+J creation template (and accepts it on POST);
    ``changeable`` accepts it on PATCH; ``convert`` checks and converts a submitted value
    (raising :class:`FieldError`); ``assign(item, value)`` stores it when it is not simply
    the model attribute of the same name; ``shown=False`` never renders it."""

    name: str
    prompt: str
    template: bool = False
    changeable: bool = False
    required: bool = False
    convert: Callable[[Any], Any] | None = None
    shown: bool = True
    assign: Callable[[Any, Any], None] | None = None


@dataclass
class Relation:
    """A related object (or several), rendered as a link and written as hrefs or ids."""

    name: str
    prompt: str
    target: str
    many: bool = False
    template: bool = False
    required: bool = False
    changeable: bool = False

    @property
    def rel(self) -> str:
        return f"{self.name} collection" if self.many else f"{self.name} item"


@dataclass
class Search:
    """A query offered as a uri-template: ``/<resource>?where={"<field>":"{<field>}"}``."""

    field: str
    title: str
    prompt: str


@dataclass
class Task:
    function: TaskFunction
    retry_safe: bool = False
    plan: Plan | None = None


@dataclass
class Resource:
    name: str
    model: type
    singular: str
    fields: list[Field]
    relations: list[Relation] = field(default_factory=list)
    searches: list[Search] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    creatable: bool = True
    deletable: bool = True
    cluster: bool = True
    description: str = ""
    template_order: tuple[str, ...] = ()
    # Accepted on POST though not in the creation template, which stays as the clients of
    # the original know it (the walkthrough prints the spaces template).
    also_writable: tuple[str, ...] = ()

    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def relation(self, name: str) -> Relation | None:
        return next((r for r in self.relations if r.name == name), None)

    @property
    def shown_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.shown]

    def template_names(self) -> list[str]:
        names = [f.name for f in self.fields if f.template]
        names += [r.name for r in self.relations if r.template]
        if self.template_order:
            order = self.template_order
            names.sort(key=lambda n: order.index(n) if n in order else len(order))
        return names


def base_fields(singular: str, name_template: bool = True) -> list[Field]:
    """The fields every item has."""
    return [
        Field("id", "unique identifier for the item"),
        Field("name", f"{singular} name", template=name_template, required=True,
              convert=check_name),
        Field("status", "current status of the item", changeable=True),
        Field("status_message", "current status as a string"),
        Field("comment", "user comment on the item", changeable=True,
              convert=as_text("comment")),
        Field("extras", "additional metadata and settings", changeable=True,
              convert=as_json_object("extras")),
        Field("created", "when the item was created"),
        Field("updated", "when the item last changed"),
    ]


# Fields accepted on POST by every resource, although not in its C+J template.
COMMON_WRITABLE = ("comment", "extras")

REGISTRY: dict[str, Resource] = {}
JOB_TYPES: dict[str, Task] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def get(name: str) -> Resource:
    return REGISTRY[name]


def add_task(resource: str, action: str, function: TaskFunction, *,
             retry_safe: bool = False, plan: Plan | None = None) -> None:
    """Run ``function(item_id, job_id)`` as a job when a ``resource`` item is created,
    changed or deleted (``action`` is ``create``, ``change`` or ``delete``). ``plan`` makes
    the action available as a dry run (see :data:`Plan`)."""
    if action not in ("create", "change", "delete"):
        raise ValueError(f"unknown action {action!r}")
    REGISTRY[resource].tasks[action] = Task(function, retry_safe, plan)


def add_check(resource: str, check: Check) -> None:
    """``check(session, item, values, action)`` runs before an item is saved (``action`` is
    ``create`` or ``change``) or deleted (``delete``, ``values`` holding the request's
    options such as ``force``); it raises :class:`FieldError` (or an ``APIError``, e.g. 409)
    to refuse."""
    REGISTRY[resource].checks.append(check)


def add_job_type(name: str, function: TaskFunction, *, retry_safe: bool = False) -> None:
    """A job that belongs to no resource: ``POST /jobs/ {"type": name}`` runs
    ``function('', job_id)``."""
    JOB_TYPES[name] = Task(function, retry_safe)


def find_task(job: models.Job) -> Task | None:
    if job.resource_type and job.resource_type in REGISTRY:
        return REGISTRY[job.resource_type].tasks.get(job.type)
    return JOB_TYPES.get(job.type)


def resource_of(model: type) -> Resource:
    return next(r for r in REGISTRY.values() if r.model is model)


_loaded: set[str] = set()


def load(extra: tuple[str, ...] | list[str] = ()) -> None:
    """Import the modules that declare resources and tasks (once each)."""
    for name in [*BUILTIN_MODULES, *extra]:
        if name not in _loaded:
            importlib.import_module(name)
            _loaded.add(name)
