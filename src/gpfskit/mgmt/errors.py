"""The API's errors: every failure answers a Collection+JSON ``error`` with the right status.

``APIError(422, "Insertion failure: 1 document(s) contain(s) error(s)", details=[...])``
renders as ``{"collection": {"version": "1.0", "href": ..., "error": {"title": "Error",
"code": 422, "message": ..., "details": [{"name": field, "message": why}]}}}``.
"""

from __future__ import annotations

from typing import Any

INSERTION_FAILURE = "Insertion failure: 1 document(s) contain(s) error(s)"
UPDATE_FAILURE = "Update failure: 1 document(s) contain(s) error(s)"


class APIError(Exception):
    """An answer other than success; ``headers`` go out with it (e.g. WWW-Authenticate)."""

    def __init__(self, status: int, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, title: str = "Error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self.title = title


class FieldError(ValueError):
    """One field of a submitted document is wrong: collected into a 422's details."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def invalid(fields: list[FieldError], insert: bool = True) -> APIError:
    """The 422 for a document with field errors."""
    return APIError(422, INSERTION_FAILURE if insert else UPDATE_FAILURE,
                    details=[{"name": f.field, "message": f.message} for f in fields])


def not_found(what: str) -> APIError:
    return APIError(404, f"{what} not found")


def unauthorized(message: str = "a valid access token is required") -> APIError:
    return APIError(401, message, headers={
        "WWW-Authenticate": 'Bearer realm="gpfskit", Basic realm="gpfskit"'})
