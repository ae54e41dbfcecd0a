"""What the provisioning operations raise when they refuse or fail.

``str()`` of each is the reason to show the user. ``FieldError`` names the input field at
fault, so that the REST layer can answer 422 with per-field detail.
"""

from __future__ import annotations


class ProvisionError(Exception):
    """A provisioning operation was refused or failed."""


class FieldError(ProvisionError, ValueError):
    """One input value is invalid; ``field`` is its name (``name``, ``size``...)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class RefusedError(ProvisionError):
    """The operation is not allowed in the current state (in use, has snapshots, holds
    data...); nothing was changed."""
