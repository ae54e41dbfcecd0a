"""The FastAPI application: the token server, the resources, errors as Collection+JSON.

:func:`prepare` readies the store (migrations, default roles, the first administrator, the
first population from the cluster); :func:`create_app` builds the application, whose
lifespan runs the job worker threads when ``gpfskit.management.jobs.workers`` is above 0.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from gpfskit.mgmt import cj, discovery, messages, models, routes, store
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.auth import accounts, passwords
from gpfskit.mgmt.auth import http as auth_http
from gpfskit.mgmt.auth.roles import seed_default_roles
from gpfskit.mgmt.errors import APIError
from gpfskit.mgmt.jobs.workers import Workers
from gpfskit.mgmt.settings import Settings

log = logging.getLogger(__name__)
ADMIN = "admin"


def prepare(settings: Settings, *, populate: bool = True) -> str | None:
    """Ready the store; returns the first administrator's generated password when this
    start created it (it is shown once and stored only as a hash)."""
    registry.load(settings.plugins)
    store.migrate(settings.database_url)
    password = None
    with store.session(settings.database_url) as s:
        seed_default_roles(s)
        s.flush()
        if not s.scalar(select(func.count()).select_from(models.User)):
            password = passwords.generate_password()
            accounts.create_user(s, ADMIN, password, [ADMIN])
    if populate:
        try:
            discovery.populate(settings.database_url, conditional=True,
                               exclude=settings.fileset_exclude)
        except Exception as exc:  # the service still starts; an operator can populate later
            log.error("could not populate the store from the cluster: %s", exc)
    return password


def _error_response(request: Request, error: APIError) -> Response:
    document = cj.error_document(request.url.path, error)
    return routes._cj_response(document, error.status, error.headers)


def create_app(settings: Settings) -> FastAPI:
    registry.load(settings.plugins)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = Workers(settings, settings.job_workers) if settings.job_workers > 0 else None
        if workers is not None:
            workers.start()
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()

    app = FastAPI(title="gpfskit management service", version="1.0", lifespan=lifespan,
                  redirect_slashes=False,
                  description="Collection+JSON resources over a Storage Scale cluster. "
                              "Get a token at /oauth2/token; send it as the basic-auth user "
                              "name with an empty password, or as a Bearer token.")

    @app.exception_handler(APIError)
    async def api_error(request: Request, exc: APIError) -> Response:
        return _error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [{"name": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request",
                    "message": e.get("msg", "invalid")} for e in exc.errors()]
        return _error_response(request, APIError(400, "bad request", details=details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"no such endpoint {request.url.path} (collection URLs end in /)",
                   405: f"{request.method} is not offered on {request.url.path}"
                        + (": PATCH the item, or delete it and POST a new one"
                           if request.method == "PUT" else "")}.get(
            exc.status_code, str(exc.detail))
        return _error_response(request, APIError(exc.status_code, message,
                                                 headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error_response(request, APIError(500, "internal error: see the service log"))

    for resource in registry.REGISTRY.values():
        app.include_router(routes.resource_router(settings, resource))
    app.include_router(auth_http.router(settings))
    app.include_router(routes.root_router(settings))
    app.add_middleware(routes.CollectionSlash)
    return app


def first_admin_message(password: str) -> str:
    return messages.text("GK0301I", name=ADMIN, password=password)
