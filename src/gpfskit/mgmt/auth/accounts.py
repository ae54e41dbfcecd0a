"""Accounts, tokens and throttled log-ins, over the store.

Tokens are 32 random bytes (URL-safe text) handed to the client once; the store keeps only
their SHA-256, so a copy of the database holds no usable token. A log-in that fails
:data:`FREE_FAILURES` times for one user name or one client address is refused for a delay
that doubles with each further failure (up to :data:`MAX_DELAY` seconds).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from gpfskit.mgmt import models
from gpfskit.mgmt.auth import passwords
from gpfskit.mgmt.auth.roles import Permissions

FREE_FAILURES = 5
MAX_DELAY = 300
FAILURE_WINDOW = timedelta(minutes=15)


class LoginRefused(Exception):
    """Wrong name or password (which half is never said)."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed log-ins: try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    user: str
    roles: tuple[str, ...]
    permissions: Permissions
    token_expires: object = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(s: Session, name: str) -> models.User | None:
    return s.scalars(select(models.User).where(models.User.name == name).options(
        selectinload(models.User.roles), selectinload(models.User.groups)
        .selectinload(models.Group.roles))).first()


def role_names(user: models.User) -> list[str]:
    names = {r.name for r in user.roles}
    for group in user.groups:
        names.update(r.name for r in group.roles)
    return sorted(names)


def _user_permissions(user: models.User) -> Permissions:
    roles = {r.id: r for r in user.roles}
    for group in user.groups:
        roles.update({r.id: r for r in group.roles})
    return Permissions.from_json(r.permissions for r in roles.values())


def _throttle_delay(s: Session, keys: list[str]) -> int:
    now = models.utcnow()
    worst = 0
    for row in s.scalars(select(models.LoginFailure).where(models.LoginFailure.key.in_(keys))):
        if now - row.last > FAILURE_WINDOW or row.count < FREE_FAILURES:
            continue
        delay = min(2 ** (row.count - FREE_FAILURES), MAX_DELAY)
        remaining = delay - (now - row.last).total_seconds()
        worst = max(worst, int(remaining + 0.999))
    return worst


def _record_failure(s: Session, keys: list[str]) -> None:
    now = models.utcnow()
    for key in keys:
        row = s.get(models.LoginFailure, key)
        if row is None:
            s.add(models.LoginFailure(key=key, count=1, last=now))
        else:
            row.count = 1 if now - row.last > FAILURE_WINDOW else row.count + 1
            row.last = now


def authenticate(s: Session, name: str, password: str, address: str,
                 pam: bool = False) -> models.User:
    """The user ``name`` if ``password`` is right; raises Throttled or LoginRefused (after
    recording the failure, committed by the caller's session)."""
    keys = [f"user:{name}"[:300], f"addr:{address}"[:300]]
    delay = _throttle_delay(s, keys)
    if delay > 0:
        raise Throttled(delay)
    user = find_user(s, name)
    ok = False
    if user is None or user.source == "local":
        ok = passwords.verify(user.password_hash if user else None, password)
    if not ok and pam and (user is None or user.source == "pam"):
        ok = passwords.pam_authenticate(name, password)
        if ok and user is None:
            user = _pam_user(s, name)
    if not ok or user is None or user.status != models.ACTIVE:
        _record_failure(s, keys)
        raise LoginRefused()
    s.execute(delete(models.LoginFailure).where(models.LoginFailure.key.in_(keys)))
    return user


def _pam_user(s: Session, name: str) -> models.User:
    """A system account seen for the first time: recorded, with the roles of its groups."""
    groups = passwords.system_groups(name)
    user = models.User(name=name, source="pam", status=models.ACTIVE,
                       status_message="system account (PAM)")
    user.groups = list(s.scalars(select(models.Group).where(models.Group.name.in_(groups))))
    s.add(user)
    s.flush()
    return find_user(s, name)  # type: ignore[return-value]


def issue_token(s: Session, user: models.User, lifetime: int) -> str:
    token = secrets.token_urlsafe(32)
    now = models.utcnow()
    s.add(models.Token(digest=digest(token), user_id=user.id, created=now,
                       expires=now + timedelta(seconds=lifetime)))
    return token


def resolve(s: Session, token: str) -> Principal | None:
    """Who holds ``token`` (None when it is unknown, expired or revoked)."""
    row = s.scalars(select(models.Token).where(models.Token.digest == digest(token)).options(
        selectinload(models.Token.user).selectinload(models.User.roles),
        selectinload(models.Token.user).selectinload(models.User.groups)
        .selectinload(models.Group.roles))).first()
    if row is None or row.revoked or row.expires <= models.utcnow() \
            or row.user.status != models.ACTIVE:
        return None
    return Principal(row.user.name, tuple(role_names(row.user)), _user_permissions(row.user),
                     row.expires)


def revoke(s: Session, token: str) -> bool:
    result = s.execute(update(models.Token).where(models.Token.digest == digest(token))
                       .values(revoked=True))
    return bool(result.rowcount)


def revoke_user(s: Session, name: str) -> int:
    user = find_user(s, name)
    if user is None:
        return 0
    result = s.execute(update(models.Token).where(models.Token.user_id == user.id,
                                                  models.Token.revoked.is_(False))
                       .values(revoked=True))
    return result.rowcount


def create_user(s: Session, name: str, password: str | None, roles: list[str],
                source: str = "local") -> models.User:
    found = list(s.scalars(select(models.Role).where(models.Role.name.in_(roles))))
    missing = sorted(set(roles) - {r.name for r in found})
    if missing:
        raise LookupError(missing[0])
    user = models.User(name=name, source=source, status=models.ACTIVE,
                       password_hash=passwords.hash_password(password) if password else None,
                       status_message="account in use")
    user.roles = found
    s.add(user)
    s.flush()
    return user
