"""Checks of the names and paths users give to provisioning operations."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from gpfskit.mgmt.provision.errors import FieldError

# Space, template and profile names: letters, digits, hyphens and underscores.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")


def object_name(value: Any, field: str = "name") -> str:
    """A valid object name, or FieldError saying what is wrong with it."""
    if not isinstance(value, str):
        raise FieldError(field, f"must be text, not {type(value).__name__}")
    if not _NAME.match(value):
        raise FieldError(field, f"{value!r} is not a valid name: use 1 to 200 letters, "
                         "digits, hyphens and underscores, starting with a letter or digit")
    return value


def relative_path(value: Any, field: str = "relativepath") -> str:
    """A relative, normalised path with no ``..``, ``.`` or empty components."""
    if not isinstance(value, str):
        raise FieldError(field, f"must be text, not {type(value).__name__}")
    if not value or value.startswith("/"):
        raise FieldError(field, f"{value!r} must be a path relative to the exposers, such "
                         "as projects/sleepy_snake")
    if any(ord(c) < 32 or c in "\\\"'`$;:%" for c in value) or len(value) > 1024:
        raise FieldError(field, f"{value!r} contains a character paths of spaces cannot "
                         "hold (control characters, quotes, '\\', '$', ';', ':', '%')")
    parts = value.split("/")
    if any(part in ("", ".", "..") for part in parts) or posixpath.normpath(value) != value:
        raise FieldError(field, f"{value!r} must be normalised: no '..', '.', '//' or "
                         "trailing '/'")
    if ".snapshots" in parts:
        raise FieldError(field, f"{value!r} is inside a snapshot directory")
    return value


def size_bytes(value: Any, field: str = "size") -> int:
    """A positive whole number of bytes."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FieldError(field, f"must be a positive whole number of bytes, not {value!r}")
    return value


def within(path: str, top: str) -> bool:
    """True when ``path`` is ``top`` or inside it (both absolute and normalised)."""
    return path == top or path.startswith(top.rstrip("/") + "/")
