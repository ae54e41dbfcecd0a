"""Password checks: argon2 hashes for local accounts, PAM for system accounts when enabled."""

from __future__ import annotations

import functools
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
log = logging.getLogger(__name__)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; costs the same time when there is no hash (so that a
    missing account cannot be told from a wrong password by timing)."""
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def pam_authenticate(name: str, password: str) -> bool:
    """Check a system account through PAM (python-pam); False when PAM is unavailable."""
    try:
        import pam  # type: ignore[import-not-found]
    except ImportError:
        log.warning("gpfskit.management.pam is on but python-pam is not installed")
        return False
    return bool(pam.pam().authenticate(name, password))


def system_groups(name: str) -> list[str]:
    """The system groups of account ``name`` (for roles given to groups)."""
    import grp
    import pwd

    try:
        primary = pwd.getpwnam(name).pw_gid
    except KeyError:
        return []
    return sorted({g.gr_name for g in grp.getgrall() if name in g.gr_mem}
                  | {grp.getgrgid(primary).gr_name})


def generate_password() -> str:
    return secrets.token_urlsafe(18)
