"""The HTTP endpoints, built for every resource of the registry.

    /<resource>/        HEAD (count)  GET (query)  POST (create)  OPTIONS
    /<resource>/<id>    HEAD  GET  PATCH  DELETE  OPTIONS
    /jobs/<id>/stdout, /jobs/<id>/stderr   the job's logs as text/plain

GET, HEAD and OPTIONS also answer without the trailing slash (the uri-templates of the
queries and the jobs links are written that way: :class:`CollectionSlash` adds it); PUT is
405 everywhere. ``OPTIONS`` lists
in ``Allow`` only the methods the caller's roles permit there.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from gpfskit.commands import dry_run
from gpfskit.mgmt import cj, models, store, writes
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.auth import http as auth_http
from gpfskit.mgmt.auth.accounts import Principal
from gpfskit.mgmt.errors import APIError, FieldError, invalid, not_found
from gpfskit.mgmt.jobs import engine
from gpfskit.mgmt.query import QueryError, parse_collection_query
from gpfskit.mgmt.query.statements import StatementCache
from gpfskit.mgmt.resources import Resource
from gpfskit.mgmt.settings import Settings

COLLECTION_METHODS = ("HEAD", "GET", "POST", "OPTIONS")
ITEM_METHODS = ("HEAD", "GET", "PATCH", "DELETE", "OPTIONS")
BODY_SCHEMA = {
    "required": True,
    "content": {
        cj.CJ_TYPE: {"schema": {"type": "object", "properties": {"template": {
            "type": "object", "properties": {"data": {"type": "array", "items": {
                "type": "object", "properties": {"name": {"type": "string"}, "value": {}},
                "required": ["name", "value"]}}}}}}},
        "application/json": {"schema": {"type": "object", "additionalProperties": True}},
    },
}


def _cj_response(document: dict[str, Any], status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(document, separators=(",", ":")), status_code=status,
                    headers=headers, media_type=cj.CJ_TYPE)


def _offered(resource: Resource, item: bool) -> tuple[str, ...]:
    if item:
        return tuple(m for m in ITEM_METHODS if m != "DELETE" or resource.deletable)
    return tuple(m for m in COLLECTION_METHODS if m != "POST" or resource.creatable)


def _require(principal: Principal, resource: Resource, method: str, item: bool) -> None:
    offered = _offered(resource, item)
    if method not in offered:
        raise APIError(405, f"{method} is not offered on this endpoint",
                       headers={"Allow": ", ".join(principal.permissions.allowed(
                           resource.name, offered))})
    if not principal.permissions.allows(resource.name, method):
        roles = ", ".join(principal.roles) or "no role"
        raise APIError(403, f"{principal.user} ({roles}) may not {method} on "
                            f"/{resource.name}/")


# Collection reads by resource and query shape (see gpfskit.mgmt.query.statements).
STATEMENTS = StatementCache()


def _query(resource: Resource, where=None, sort=None, projection=None, max_results=None,
           page=None):
    try:
        return parse_collection_query(resource.model, where=where, sort=sort,
                                      projection=projection, max_results=max_results,
                                      page=page)
    except QueryError as exc:
        raise APIError(400, f"bad query: {exc}") from None


def _loaders(resource: Resource) -> list:
    return [selectinload(getattr(resource.model, r.name)) for r in resource.relations]


@functools.cache
def _read_columns(name: str) -> tuple:
    """What a collection read selects: the table's columns plus, per to-many relation, the
    related ids aggregated into one text column ``_ids_<relation>`` (one query per page, no
    ORM objects; built once per resource)."""
    resource = registry.get(name)
    model = resource.model
    columns = list(model.__table__.columns)
    for relation in resource.relations:
        if not relation.many:
            continue
        table = getattr(model, relation.name).property.secondary
        local = next(c for c in table.c if any(
            fk.column.table is model.__table__ for fk in c.foreign_keys))
        remote = next(c for c in table.c if c is not local)
        columns.append(select(func.aggregate_strings(remote, ",")).where(local == model.id)
                       .scalar_subquery().label(f"_ids_{relation.name}"))
    return tuple(columns)


def _row_related(resource: Resource, row: Any) -> dict[str, list[str]]:
    return {relation.name: sorted(filter(None, (getattr(row, f"_ids_{relation.name}") or "")
                                         .split(",")))
            for relation in resource.relations if relation.many}


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter (``?dry_run=true``, ``?force=1``)."""
    value = request.query_params.get(name)
    if value is None:
        return False
    if value.lower() in ("", "1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise APIError(400, f"query parameter {name} must be true or false, not {value!r}")


def _href(request: Request) -> str:
    """The request's path and query, decoded (as the walkthrough shows them)."""
    query = unquote_plus(request.url.query)
    return request.url.path + (f"?{query}" if query else "")


def _page_links(request: Request, page: int, size: int, total: int) -> list[dict[str, str]]:
    links = []
    for rel, number in (("prev", page - 1), ("next", page + 1)):
        if number >= 1 and (number - 1) * size < total and number != page:
            url = request.url.include_query_params(page=number, max_results=size)
            links.append(cj.link(f"{url.path}?{url.query}", rel, rel.capitalize(), rel))
    return links


class Endpoints:
    """The handlers of one resource."""

    def __init__(self, settings: Settings, resource: Resource) -> None:
        self.settings = settings
        self.resource = resource

    # -- reads --------------------------------------------------------------------------------
    def list(self, request: Request, principal: Principal, method: str, params: dict) -> Response:
        _require(principal, self.resource, method, item=False)
        model, name = self.resource.model, self.resource.name
        q = _query(self.resource, **params)
        counting = STATEMENTS.get((name, "count", q.shape), lambda: q.count(select(model)))
        with store.reading(self.settings.database_url) as s:
            if method == "HEAD":
                total = s.scalar(counting, q.values)
                return Response(status_code=200, headers={"X-Total-Count": str(total)},
                                media_type=cj.CJ_TYPE)
            page = STATEMENTS.get((name, "page", q.shape),
                                  lambda: q.apply(select(*_read_columns(name))))
            rows = s.execute(page, q.values).all()
            if len(rows) < q.max_results and (rows or q.page == 1):  # the last page: the
                # count is known without a count query
                total = q.offset + len(rows)
            else:
                total = s.scalar(counting, q.values)
            headers = {"X-Total-Count": str(total)}
            fields = q.fields(self.resource.shown_fields)
            items = [cj.render_item(self.resource, row, fields,
                                    _row_related(self.resource, row)) for row in rows]
        links = _page_links(request, q.page, q.max_results, total)
        document = cj.collection(_href(request), resource=self.resource, items=items,
                                 links=links)
        return _cj_response(document, headers=headers)

    def read(self, request: Request, principal: Principal, method: str, item_id: str,
             projection: str | None) -> Response:
        _require(principal, self.resource, method, item=True)
        q = _query(self.resource, projection=projection)
        with store.session(self.settings.database_url) as s:
            row = s.get(self.resource.model, item_id, options=_loaders(self.resource))
            if row is None:
                raise not_found(f"{self.resource.singular} {item_id}")
            if method == "HEAD":
                return Response(status_code=200, media_type=cj.CJ_TYPE)
            item = cj.render_item(self.resource, row, q.fields(self.resource.shown_fields))
        return _cj_response(cj.collection(_href(request), resource=self.resource,
                                          items=[item]))

    def options(self, principal: Principal, item: bool) -> Response:
        allowed = principal.permissions.allowed(self.resource.name,
                                                _offered(self.resource, item))
        return Response(status_code=200, headers={"Allow": ", ".join(allowed)})

    # -- writes -------------------------------------------------------------------------------
    def _answer(self, request: Request, row: Any, job: models.Job | None,
                created: bool) -> Response:
        base = str(request.base_url).rstrip("/")
        href = cj.item_href(self.resource.name, row.id)
        if job is not None:
            engine.enqueue(self.settings, job.id)
            location = base + href + '?projection={"status":1}'
            status = 202
        else:
            location, status = base + href, 201 if created else 200
        item = cj.render_item(self.resource, row, self.resource.shown_fields)
        return _cj_response(cj.collection(href, resource=self.resource, items=[item]),
                            status, {"Location": location})

    def _dry_run(self, s, row: Any, action: str, options: dict[str, Any]) -> Response:
        """Run the action's plan under dry run on the item as it would be; answer 200 with
        the item and the admin commands the job would run, and store nothing."""
        task = self.resource.tasks.get(action)
        if task is None or task.plan is None:
            s.rollback()
            raise APIError(501, f"{action} of {self.resource.name} offers no dry run")
        try:
            with dry_run() as commands:
                task.plan(s, row, options)
            for relation in self.resource.relations:
                getattr(row, relation.name)
            item = cj.render_item(self.resource, row, self.resource.shown_fields)
        except FieldError as exc:
            s.rollback()
            raise invalid([exc], insert=action == "create") from None
        finally:
            s.rollback()
        item["data"].append({"name": "commands", "value": "\n".join(commands),
                             "prompt": "admin commands the job would run, in order"})
        href = cj.item_href(self.resource.name, row.id)
        return _cj_response(cj.collection(href, resource=self.resource, items=[item]))

    def create(self, request: Request, principal: Principal, values: dict) -> Response:
        _require(principal, self.resource, "POST", item=False)
        with store.session(self.settings.database_url) as s:
            if self.resource.name == "jobs":
                row = job = writes.submit_job_type(s, values, principal.user)
            else:
                row, job = writes.create(s, self.resource, values, principal.user)
                if _flag(request, "dry_run"):
                    return self._dry_run(s, row, "create", {})
            s.flush()
            s.refresh(row)
            for relation in self.resource.relations:
                getattr(row, relation.name)
        return self._answer(request, row, job, created=True)

    def _load(self, s, item_id: str) -> Any:
        row = s.get(self.resource.model, item_id, options=_loaders(self.resource))
        if row is None:
            raise not_found(f"{self.resource.singular} {item_id}")
        return row

    def change(self, request: Request, principal: Principal, item_id: str,
               values: dict) -> Response:
        _require(principal, self.resource, "PATCH", item=True)
        with store.session(self.settings.database_url) as s:
            row = self._load(s, item_id)
            job = writes.change(s, self.resource, row, values, principal.user)
            s.flush()
            if _flag(request, "dry_run"):
                return self._dry_run(s, row, "change", {})
            s.refresh(row)
            for relation in self.resource.relations:
                getattr(row, relation.name)
        if self.resource.name == "users":
            auth_http.forget_tokens()
        return self._answer(request, row, job, created=False)

    def delete(self, request: Request, principal: Principal, item_id: str) -> Response:
        _require(principal, self.resource, "DELETE", item=True)
        with store.session(self.settings.database_url) as s:
            row = self._load(s, item_id)
            options = {"force": True} if _flag(request, "force") else {}
            job = writes.delete(s, self.resource, row, principal.user, options)
            if _flag(request, "dry_run"):
                return self._dry_run(s, row, "delete", options)
        if self.resource.name in ("users", "roles", "groups"):
            auth_http.forget_tokens()
        if job is None:
            return Response(status_code=204)
        base = str(request.base_url).rstrip("/")
        engine.enqueue(self.settings, job.id)
        return Response(status_code=202, headers={
            "Location": base + f"/jobs/{job.id}"})

    def log(self, principal: Principal, item_id: str, which: str, method: str) -> Response:
        _require(principal, self.resource, method, item=True)
        with store.session(self.settings.database_url) as s:
            job = s.get(models.Job, item_id)
            if job is None:
                raise not_found(f"job {item_id}")
            text = job.stdout if which == "stdout" else job.stderr
        return PlainTextResponse("" if method == "HEAD" else text)


QUERY_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "description": description,
     "schema": {"type": "string"}}
    for name, description in (
        ("where", 'Mongo-style JSON ({"name": "x"}) or a Python-style expression (name=="x")'),
        ("sort", "fields, '-' for descending: name,-created"),
        ("projection", '{"status": 1} or {"extras": 0}'),
        ("max_results", "page size"),
        ("page", "page number, from 1"))]


def _query_params(request: Request) -> dict[str, str | None]:
    """The collection query parameters, as text (checked by the query parser). They are read
    here rather than declared as FastAPI parameters, whose validation cost an eighth of a
    collection read, and documented in the OpenAPI schema by :data:`QUERY_PARAMETERS`."""
    given = request.query_params
    return {p["name"]: given.get(p["name"]) for p in QUERY_PARAMETERS}


async def _read(settings: Settings, handler: Any, *args: Any) -> Response:
    """Run a read handler: on the event loop itself for the embedded SQLite store (a local
    file in WAL mode, whose readers never wait for writers: an indexed read takes a tenth of
    a millisecond, less than handing it to a worker thread, and a second thread contending
    for the GIL makes every request wait longer), in a worker thread for a server database
    (a round trip over the network)."""
    if settings.database_url.startswith("sqlite"):
        return handler(*args)
    return await run_in_threadpool(handler, *args)


async def _body(request: Request) -> dict[str, Any]:
    return cj.read_body(await request.body(), request.headers.get("content-type", ""))


class ResourceRouter(APIRouter):
    """The routes of one resource, all under ``/<name>/``: a request for another path is told
    apart by one string test instead of a look at each route (the application tries the
    routers in turn, and there is one per resource)."""

    def __init__(self, name: str) -> None:
        super().__init__(tags=[name])
        self.base = f"/{name}/"

    def matches(self, scope: Any) -> tuple[Match, dict]:
        if not scope.get("path", "").startswith(self.base):
            return Match.NONE, {}
        return super().matches(scope)


def resource_router(settings: Settings, resource: Resource) -> APIRouter:
    api = ResourceRouter(resource.name)
    ep = Endpoints(settings, resource)

    # The dependencies are coroutines; writes run in a worker thread, reads too on a
    # server database (see _read).
    async def principal(request: Request) -> Principal:
        return await auth_http.authenticate_async(settings, request)

    who = Depends(principal)
    collection, item = f"/{resource.name}/", f"/{resource.name}/{{item_id}}"
    query = {"parameters": QUERY_PARAMETERS}

    @api.get(collection, summary=f"Query {resource.name}", description=resource.description,
             openapi_extra=query)
    async def get_collection(request: Request, p: Principal = who) -> Response:
        return await _read(settings, ep.list, request, p, "GET", _query_params(request))

    @api.head(collection, summary=f"Count {resource.name}", openapi_extra=query)
    async def head_collection(request: Request, p: Principal = who) -> Response:
        return await _read(settings, ep.list, request, p, "HEAD", _query_params(request))

    @api.options(collection, summary="Allowed methods")
    async def options_collection(p: Principal = who) -> Response:
        return ep.options(p, item=False)

    @api.post(collection, summary=f"Create a {resource.singular}",
              openapi_extra={"requestBody": BODY_SCHEMA})
    async def post_collection(request: Request, p: Principal = who) -> Response:
        values = await _body(request)
        return await run_in_threadpool(ep.create, request, p, values)

    @api.get(item, summary=f"One {resource.singular}")
    async def get_item(request: Request, item_id: str, p: Principal = who,
                       projection: str | None = Query(None)) -> Response:
        return await _read(settings, ep.read, request, p, "GET", item_id, projection)

    @api.head(item, summary=f"Whether a {resource.singular} exists")
    async def head_item(request: Request, item_id: str, p: Principal = who) -> Response:
        return await _read(settings, ep.read, request, p, "HEAD", item_id, None)

    @api.options(item, summary="Allowed methods")
    async def options_item(item_id: str, p: Principal = who) -> Response:
        return ep.options(p, item=True)

    @api.patch(item, summary=f"Change a {resource.singular} (or retry an ERRORED one)",
               openapi_extra={"requestBody": BODY_SCHEMA})
    async def patch_item(request: Request, item_id: str, p: Principal = who) -> Response:
        values = await _body(request)
        return await run_in_threadpool(ep.change, request, p, item_id, values)

    @api.delete(item, summary=f"Delete a {resource.singular}")
    def delete_item(request: Request, item_id: str, p: Principal = who) -> Response:
        return ep.delete(request, p, item_id)

    if resource.name == "jobs":
        for which in ("stdout", "stderr"):
            api.add_api_route(f"{item}/{which}", _job_log(ep, which, who),
                              methods=["GET", "HEAD"], summary=f"The job's {which} (text/plain)",
                              response_class=PlainTextResponse)
    return api


def _job_log(ep: Endpoints, which: str, who: Any):
    def job_log(item_id: str, request: Request, p: Principal = who) -> Response:
        return ep.log(p, item_id, which, request.method)
    return job_log


class CollectionSlash:
    """ASGI middleware: ``GET /profiles?...`` is served as ``GET /profiles/?...`` (reads
    only; a write must name the collection exactly)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.collections = {f"/{name}" for name in registry.REGISTRY}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in self.collections \
                and scope["method"] in ("GET", "HEAD", "OPTIONS"):
            scope = {**scope, "path": scope["path"] + "/",
                     "raw_path": scope.get("raw_path", b"") + b"/"}
        await self.app(scope, receive, send)


def root_router(settings: Settings) -> APIRouter:
    api = APIRouter()

    @api.get("/", summary="The resources this caller may read")
    def home(request: Request) -> Response:
        p = auth_http.authenticate(settings, request)
        links = [cj.link(f"/{r.name}/", r.name, r.description, "collection")
                 for r in registry.REGISTRY.values() if p.permissions.allows(r.name, "GET")]
        return _cj_response(cj.collection("/", links=links))

    return api

