"""Roles are data: each role maps endpoints to the methods it allows.

``{"spaces": ["GET", "HEAD", "POST"], "*": ["GET", "HEAD"]}``: an endpoint is a resource
name (``spaces``; its items share it); ``*`` as an endpoint covers every endpoint the role
does not name; ``*`` as a method allows them all. A caller's permissions are the union of
the roles given to the user and to the user's groups. OPTIONS is always allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

ALL = "*"
READ = ["GET", "HEAD"]
WRITE = ["GET", "HEAD", "POST", "PATCH", "DELETE"]
ADMIN_ONLY = ("users", "roles", "groups")

DEFAULT_ROLES: dict[str, tuple[str, dict[str, list[str]]]] = {
    "admin": ("everything", {ALL: [ALL]}),
    "operator": ("create and change spaces and snapshots, read the rest",
                 {"spaces": WRITE, "snapshots": WRITE, ALL: READ,
                  **{endpoint: [] for endpoint in ADMIN_ONLY}}),
    "viewer": ("read only", {ALL: READ, **{endpoint: [] for endpoint in ADMIN_ONLY}}),
}


class Permissions:
    """The merged permissions of several roles."""

    def __init__(self, tables: Iterable[dict[str, list[str]]]) -> None:
        self.tables = list(tables)

    @classmethod
    def from_json(cls, texts: Iterable[str]) -> Permissions:
        return cls(json.loads(text) for text in texts)

    def methods(self, endpoint: str) -> set[str]:
        allowed: set[str] = set()
        for table in self.tables:
            methods = table.get(endpoint, table.get(ALL, []))
            allowed.update(methods)
        return allowed

    def allows(self, endpoint: str, method: str) -> bool:
        if method == "OPTIONS":
            return True
        methods = self.methods(endpoint)
        return ALL in methods or method in methods

    def allowed(self, endpoint: str, offered: Iterable[str]) -> list[str]:
        """The methods of ``offered`` (in its order) that these roles allow."""
        return [m for m in offered if self.allows(endpoint, m)]


def seed_default_roles(s) -> None:
    """Create the default roles when the store has none (later edits are kept)."""
    from sqlalchemy import func, select

    from gpfskit.mgmt import models

    if s.scalar(select(func.count()).select_from(models.Role)):
        return
    for name, (description, permissions) in DEFAULT_ROLES.items():
        s.add(models.Role(name=name, comment=description, status=models.ACTIVE,
                          status_message="ready", permissions=json.dumps(permissions)))
