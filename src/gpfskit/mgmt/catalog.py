"""The built-in resources, with the fields and prompts the walkthrough shows.

The tasks that create, change and delete templates, spaces, snapshots, profiles and
exposers on the cluster are added by the provisioning modules (see
:mod:`gpfskit.mgmt.resources`); until a resource has a ``create`` task, POSTing to it is
refused with 405.
"""

from __future__ import annotations

import json

from gpfskit.mgmt import models
from gpfskit.mgmt.errors import FieldError
from gpfskit.mgmt.resources import (
    Field,
    Relation,
    Resource,
    Search,
    as_int,
    as_text,
    base_fields,
    register,
)

METHODS = ("GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS")


def _by_name(singular: str) -> Search:
    return Search("name", "Search by Name", f"{singular} name")


def _check_permissions(value):
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise FieldError("permissions", f"is not valid JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise FieldError("permissions", 'must map endpoints to methods, e.g. '
                         '{"spaces": ["GET", "POST"], "*": ["GET", "HEAD"]}')
    for endpoint, methods in parsed.items():
        if not isinstance(endpoint, str) or not isinstance(methods, list) or not all(
                isinstance(m, str) and (m == "*" or m in METHODS) for m in methods):
            raise FieldError("permissions", f"endpoint {json.dumps(endpoint)}: methods must be "
                             f"a list of {', '.join(METHODS)} or *")
    return json.dumps(parsed, sort_keys=True)


def _check_password(value):
    if not isinstance(value, str) or len(value) < 8:
        raise FieldError("password", "must be text of at least 8 characters")
    return value


def _set_password(user: models.User, password: str) -> None:
    from gpfskit.mgmt.auth.passwords import hash_password

    user.password_hash = hash_password(password)
    user.source = "local"


register(Resource(
    "exposers", models.Exposer, "exposer",
    [*base_fields("exposer"),
     Field("type", "specific type of the exposer", template=True, required=True,
           convert=as_text("type")),
     Field("filesystem", "file system the exposer gives access to", template=True,
           convert=as_text("filesystem")),
     Field("mountpoint", "path at which the exposer is mounted"),
     Field("path", "exported directory (nfs and smb exposers)", template=True,
           convert=as_text("path"))],
    relations=[Relation("space", "space the exposer shares (instead of a path)", "spaces",
                        template=True)],
    searches=[_by_name("exposer"),
              Search("type", "Search by Type", "specific type of the exposer")],
    description="How file systems are reached: gpfsnative (the file system itself), nfs "
                "and smb exports.",
))

register(Resource(
    "datastores", models.Datastore, "datastore",
    [*base_fields("datastore", name_template=False),
     Field("type", "type of the datastore"),
     Field("filesystem", "file system of the pool"),
     Field("pool", "storage pool"),
     Field("capacity", "capacity of the pool in bytes"),
     Field("usage", "bytes used in the pool")],
    searches=[_by_name("datastore"),
              Search("filesystem", "Search by Filesystem", "file system of the pool")],
    creatable=False, deletable=False,
    description="The storage pools of the file systems (discovered).",
))

register(Resource(
    "profiles", models.Profile, "profile",
    [*base_fields("profile"),
     Field("filesystem", "file system the profile places data on", template=True,
           required=True, convert=as_text("filesystem")),
     Field("pool", "pool new data is placed in", template=True, required=True,
           convert=as_text("pool")),
     Field("default", "whether this is a discovered default placement profile"),
     Field("rules", "additional policy rules (ILM steps, placement controls)", template=True,
           changeable=True, convert=as_text("rules"))],
    relations=[Relation("datastore", "datastore the profile places data in", "datastores")],
    searches=[_by_name("profile")],
    description="Placement policies: the pool a space's new data lands in.",
))

register(Resource(
    "templates", models.Template, "template",
    [*base_fields("template"),
     Field("type", "specific type of the template", template=True, required=True,
           convert=as_text("type")),
     Field("template_location", "path to the template", template=True, required=True,
           convert=as_text("template_location"))],
    searches=[_by_name("template")],
    description="Directory layouts captured from a model directory.",
))

register(Resource(
    "spaces", models.Space, "space",
    [*base_fields("space"),
     Field("relativepath", "path of the space relative to its exposers", template=True,
           required=True, convert=as_text("relativepath")),
     Field("size", "hard limit on the size of the space in blocks", template=True,
           changeable=True, convert=as_int("size")),
     Field("filesystem", "file system holding the space"),
     Field("fileset", "fileset of the space on the cluster"),
     Field("path", "where the space's files are (the junction of its fileset)")],
    relations=[
        Relation("parent", "independent space a dependent space is made in", "spaces"),
        Relation("templates", "templates applied to the space", "templates", many=True,
                 template=True),
        Relation("exposers", "exposers providing access to the space", "exposers", many=True,
                 template=True, required=True),
        Relation("profile", "profile applied to the space", "profiles", template=True,
                 required=True),
    ],
    searches=[_by_name("space")],
    description="Project areas: filesets with a size, a placement profile and templates.",
    template_order=("name", "relativepath", "templates", "exposers", "profile", "size"),
    also_writable=("parent",),
))

register(Resource(
    "snapshots", models.Snapshot, "snapshot",
    [*base_fields("snapshot"),
     Field("type", "specific type of the snapshot", template=True, required=True,
           convert=as_text("type")),
     Field("filesystem", "file system of the snapshot"),
     Field("fileset", "fileset of a space snapshot")],
    relations=[Relation("space", "space the snapshot is of", "spaces", template=True)],
    searches=[_by_name("snapshot")],
    description="Global (gpfsglobalsnapshot) and space (gpfsspacesnapshot) snapshots.",
))

register(Resource(
    "jobs", models.Job, "job",
    [*base_fields("job", name_template=False),
     Field("type", "type of the job (e.g. populate)", template=True, required=True),
     Field("state", "state of the job: PENDING, RUNNING, COMPLETED or ERRORED"),
     Field("resource_type", "type of the resource the job is for"),
     Field("resource_id", "identifier of the resource the job is for"),
     Field("reason", "why the job failed"),
     Field("requester", "user who asked for the job"),
     Field("submitted", "when the job was submitted"),
     Field("started", "when the job started running"),
     Field("finished", "when the job finished"),
     Field("attempts", "how many times the job was started"),
     Field("worker", "worker that ran the job")],
    searches=[Search("resource_id", "Search by Resource", "identifier of the resource"),
              Search("state", "Search by State", "state of the job")],
    deletable=False, cluster=False,
    description="Asynchronous tasks and their logs (/jobs/<id>/stdout and /stderr).",
))

register(Resource(
    "roles", models.Role, "role",
    [*base_fields("role"),
     Field("permissions", "endpoint -> allowed methods, as JSON text", template=True,
           changeable=True, required=True, convert=_check_permissions)],
    searches=[_by_name("role")], cluster=False,
    description="Roles: which methods are allowed on which endpoints.",
))

register(Resource(
    "groups", models.Group, "group",
    [*base_fields("group")],
    relations=[Relation("roles", "roles of the group's members", "roles", many=True,
                        template=True, changeable=True)],
    searches=[_by_name("group")], cluster=False,
    description="Groups of users (local or system groups through PAM) and their roles.",
))

register(Resource(
    "users", models.User, "user",
    [*base_fields("user"),
     Field("source", "where the account is checked: local or pam"),
     Field("password", "password of a local account (write only)", template=True,
           changeable=True, convert=_check_password, shown=False, assign=_set_password)],
    relations=[Relation("roles", "roles of the user", "roles", many=True, template=True,
                        changeable=True),
               Relation("groups", "groups of the user", "groups", many=True, template=True,
                        changeable=True)],
    searches=[_by_name("user")], cluster=False,
    description="Accounts and their role assignments.",
))
