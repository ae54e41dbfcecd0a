"""The token server (``/oauth2/token``, ``/oauth2/token_info``, ``/oauth2/revoke``) and the
request authentication every other endpoint uses.

A request carries its token as the basic-auth user name with an empty password (what the
original's clients send) or as ``Authorization: Bearer <token>``. Who holds a token is
cached for :data:`CACHE_SECONDS`, so a revocation or a role change made by another process
applies within that time (at once in the process that made it).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gpfskit.mgmt import models, store
from gpfskit.mgmt.auth import accounts
from gpfskit.mgmt.auth.accounts import Principal
from gpfskit.mgmt.errors import unauthorized
from gpfskit.mgmt.settings import Settings

CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Principal]] = {}
_cache_lock = threading.Lock()


def forget_tokens() -> None:
    with _cache_lock:
        _cache.clear()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization`` header (Basic with the token as user, or Bearer)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return None


def _cached(digest: str) -> Principal | None:
    with _cache_lock:
        hit = _cache.get(digest)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS \
            and hit[1].token_expires > models.utcnow():
        return hit[1]
    return None


def _lookup(settings: Settings, token: str, digest: str) -> Principal:
    with store.session(settings.database_url) as s:
        principal = accounts.resolve(s, token)
    if principal is None:
        raise unauthorized("the access token is unknown, expired or revoked")
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (time.monotonic(), principal)
    return principal


def _token(request: Request) -> tuple[str, str]:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthorized()
    return token, accounts.digest(token)


def authenticate(settings: Settings, request: Request) -> Principal:
    """Who sends ``request`` (401 when nobody valid); for code already off the event loop."""
    token, digest = _token(request)
    return _cached(digest) or _lookup(settings, token, digest)


async def authenticate_async(settings: Settings, request: Request) -> Principal:
    """:func:`authenticate` for the event loop: the store is read in a worker thread only
    when the token is not cached."""
    token, digest = _token(request)
    return _cached(digest) or await run_in_threadpool(_lookup, settings, token, digest)


def _oauth_error(status: int, error: str, description: str,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"Cache-Control": "no-store", **(headers or {})})


async def _form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body = await request.json()
        except ValueError:
            return {}
        return {k: v for k, v in body.items() if isinstance(v, str)} \
            if isinstance(body, dict) else {}
    try:
        form = await request.form()
    except Exception:  # malformed multipart bodies
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str)}


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/oauth2", tags=["oauth2"])

    @api.post("/token", summary="Get an access token (password grant, form body)")
    async def token(request: Request) -> JSONResponse:
        form = await _form(request)
        if form.get("grant_type") != "password":
            return _oauth_error(400, "unsupported_grant_type",
                                "only grant_type=password is supported")
        name, password = form.get("username", ""), form.get("password", "")
        if not name or not password:
            return _oauth_error(400, "invalid_request", "username and password are required")
        address = request.client.host if request.client else "unknown"
        return await run_in_threadpool(_issue, settings, name, password, address)

    @api.api_route("/token_info", methods=["GET", "POST"],
                   summary="What a token is worth (for services checking tokens)")
    async def token_info(request: Request) -> JSONResponse:
        form = await _form(request) if request.method == "POST" else {}
        raw = form.get("token") or request.query_params.get("token") or \
            bearer_token(request.headers.get("authorization"))
        principal = None
        if raw:
            with store.session(settings.database_url) as s:
                principal = accounts.resolve(s, raw)
        if principal is None:
            return JSONResponse({"active": False}, headers={"Cache-Control": "no-store"})
        expires_in = int((principal.token_expires - models.utcnow()).total_seconds())
        return JSONResponse({"active": True, "username": principal.user,
                             "roles": list(principal.roles), "expires_in": expires_in,
                             "token_type": "Bearer"}, headers={"Cache-Control": "no-store"})

    @api.post("/revoke", summary="Revoke a token (RFC 7009: always 200)")
    async def revoke(request: Request) -> JSONResponse:
        form = await _form(request)
        raw = form.get("token")
        if not raw:
            return _oauth_error(400, "invalid_request", "token is required")
        with store.session(settings.database_url) as s:
            accounts.revoke(s, raw)
        forget_tokens()
        return JSONResponse({}, headers={"Cache-Control": "no-store"})

    return api


def _issue(settings: Settings, name: str, password: str, address: str) -> JSONResponse:
    with store.session(settings.database_url) as s:
        try:
            user = accounts.authenticate(s, name, password, address, pam=settings.pam)
        except accounts.Throttled as exc:
            return _oauth_error(429, "slow_down", str(exc),
                                {"Retry-After": str(exc.retry_after)})
        except accounts.LoginRefused:
            refused = True
        else:
            refused = False
            token = accounts.issue_token(s, user, settings.token_expiry)
    if refused:  # the failure is committed above; the answer names neither half
        return _oauth_error(400, "invalid_grant", "wrong user name or password")
    return JSONResponse({"access_token": token, "token_type": "Bearer",
                         "expires_in": settings.token_expiry},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
