"""Messages the service gives operators, each with a stable code (listed in
docs/operations.md): ``[GK0117E] Filesystem mmfs1 has no default placement rule - skipping``.

The last letter is the severity: I (information), W (warning), E (error: something was not
done). Codes never change meaning; new messages get new codes.
"""

from __future__ import annotations

import logging

CATALOG: dict[str, str] = {
    "GK0101I": "Populated the store: {summary}",
    "GK0102I": "The store is already populated - nothing to do",
    "GK0103E": "Cannot rebuild while {count} item(s) are PENDING or INPROGRESS - try again "
               "when their jobs have finished",
    "GK0104W": "Left {kind} {name} alone: it is {status}",
    "GK0110I": "Installed placement rule {rule} on filesystem {filesystem}",
    "GK0111I": "Filesystem {filesystem} already has its default placement rules",
    "GK0117E": "Filesystem {filesystem} has no default placement rule - skipping",
    "GK0120W": "Cannot read the exports: {reason}",
    "GK0201I": "Created user {name} with role(s) {roles}",
    "GK0202I": "Removed user {name}",
    "GK0203I": "Changed the password of user {name}",
    "GK0204E": "No user {name}",
    "GK0205E": "User {name} exists already",
    "GK0206E": "No role {name} (roles: {roles})",
    "GK0207E": "{reason}",
    "GK0210I": "Revoked {count} token(s)",
    "GK0301I": "Created the administrator {name}; its password (shown only now): {password}",
    "GK0302I": "Wrote a self-signed certificate {certificate} and key {key}",
    "GK0401W": "Job {job} was interrupted ({reason}): {action}",
    "GK0402W": "Job {job} lost its queued task ({reason}): queued again",
}


def text(code: str, **values: object) -> str:
    """The message ``code`` filled with ``values``: ``[GK0117E] Filesystem ...``."""
    return f"[{code}] " + CATALOG[code].format(**values)


def log(logger: logging.Logger, code: str, **values: object) -> str:
    """Log the coded message at the level its severity says; returns the text."""
    level = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR}[code[-1]]
    message = text(code, **values)
    logger.log(level, "%s", message)
    return message
