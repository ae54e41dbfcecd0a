"""The management store's tables (SQLAlchemy 2 declarative models).

Every API item (exposers, datastores, profiles, spaces, templates, snapshots, jobs, users,
roles, groups) has the base columns of :class:`Item`: ``id`` (a UUID as 36-char text),
``name``, ``status``, ``status_message``, ``comment``, ``extras`` (JSON text, so that the
Collection+JSON data stays scalar), ``created`` and ``updated``. The schema itself is made by
the Alembic migrations in ``gpfskit/mgmt/migrations``; a change here needs a new migration.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Item states (the lifecycle every asynchronously created object goes through).
NEW, PENDING, INPROGRESS, ACTIVE, ERRORED, DELETING = (
    "NEW", "PENDING", "INPROGRESS", "ACTIVE", "ERRORED", "DELETING")
# Job states.
JOB_PENDING, JOB_RUNNING, JOB_COMPLETED, JOB_ERRORED = (
    "PENDING", "RUNNING", "COMPLETED", "ERRORED")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Item:
    """The columns every API item has."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=NEW, index=True)
    status_message: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    extras: Mapped[str] = mapped_column(Text, default="{}")
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


space_exposers = Table(
    "space_exposers", Base.metadata,
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("exposer_id", ForeignKey("exposers.id", ondelete="CASCADE"), primary_key=True),
)
space_templates = Table(
    "space_templates", Base.metadata,
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("template_id", ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True),
)
user_roles = Table(
    "user_roles", Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)
group_roles = Table(
    "group_roles", Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)
user_groups = Table(
    "user_groups", Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Exposer(Item, Base):
    """How a file system is reached: ``gpfsnative`` (the file system), ``nfs``, ``smb``.

    An NFS or SMB exposer shares a directory (``path``); one made for a space (``space``)
    shares that space's junction."""

    __tablename__ = "exposers"
    type: Mapped[str] = mapped_column(String(32), index=True)
    filesystem: Mapped[str] = mapped_column(String(255), default="")
    mountpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    space_id: Mapped[str | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="SET NULL"), nullable=True)
    space: Mapped[Space | None] = relationship(foreign_keys=[space_id])


class Datastore(Item, Base):
    """A storage pool of a file system, with its capacity and usage in bytes."""

    __tablename__ = "datastores"
    type: Mapped[str] = mapped_column(String(32), default="gpfspool")
    filesystem: Mapped[str] = mapped_column(String(255))
    pool: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    usage: Mapped[int] = mapped_column(BigInteger, default=0)


class Profile(Item, Base):
    """A placement policy: which pool a space's new data lands in, plus optional ILM rules."""

    __tablename__ = "profiles"
    __table_args__ = (UniqueConstraint("name", name="uq_profiles_name"),)
    filesystem: Mapped[str] = mapped_column(String(255))
    pool: Mapped[str] = mapped_column(String(255))
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[str] = mapped_column(Text, default="")
    datastore_id: Mapped[str | None] = mapped_column(
        ForeignKey("datastores.id", ondelete="SET NULL"), nullable=True)
    datastore: Mapped[Datastore | None] = relationship()


class Template(Item, Base):
    """A directory layout captured from a model directory into the template store."""

    __tablename__ = "templates"
    type: Mapped[str] = mapped_column(String(32), default="filesystemtemplate")
    template_location: Mapped[str | None] = mapped_column(Text, nullable=True)
    store_path: Mapped[str | None] = mapped_column(Text, nullable=True)


class Space(Item, Base):
    """A project area: a fileset linked at ``relativepath`` under its exposers; ``path`` is
    its junction. A dependent space (``parent``) is made in the inode space of its parent."""

    __tablename__ = "spaces"
    # Two spaces may share a name only with different profiles (also under concurrent POSTs).
    __table_args__ = (UniqueConstraint("name", "profile_id", name="uq_spaces_name_profile"),)
    relativepath: Mapped[str | None] = mapped_column(Text, nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    filesystem: Mapped[str] = mapped_column(String(255), default="")
    fileset: Mapped[str | None] = mapped_column(String(255), nullable=True)
    profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="SET NULL"), nullable=True)
    profile: Mapped[Profile | None] = relationship()
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="SET NULL"), nullable=True)
    parent: Mapped[Space | None] = relationship(remote_side="Space.id")
    exposers: Mapped[list[Exposer]] = relationship(secondary=space_exposers)
    templates: Mapped[list[Template]] = relationship(secondary=space_templates)


class Snapshot(Item, Base):
    """A global (file system) snapshot or a space (fileset) snapshot."""

    __tablename__ = "snapshots"
    type: Mapped[str] = mapped_column(String(32))
    filesystem: Mapped[str] = mapped_column(String(255), default="")
    fileset: Mapped[str | None] = mapped_column(String(255), nullable=True)
    space_id: Mapped[str | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), nullable=True)
    space: Mapped[Space | None] = relationship()
    exposer_id: Mapped[str | None] = mapped_column(
        ForeignKey("exposers.id", ondelete="CASCADE"), nullable=True)
    exposer: Mapped[Exposer | None] = relationship()
    path: Mapped[str | None] = mapped_column(Text, nullable=True)


class Job(Item, Base):
    """One task run by the job engine: ``type`` is ``create``, ``change`` or ``delete`` of
    the resource ``resource_type``/``resource_id``, or a job type of its own (``populate``)."""

    __tablename__ = "jobs"
    __query_hidden__ = {"stdout", "stderr"}
    type: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(16), default=JOB_PENDING, index=True)
    resource_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resource_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    requester: Mapped[str] = mapped_column(String(255), default="")
    submitted: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(255), default="")
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_jobs_resource", "resource_type", "resource_id"),)


class Role(Item, Base):
    """A role: ``permissions`` is JSON text, endpoint -> list of methods (``*`` = any)."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("name", name="uq_roles_name"),)
    permissions: Mapped[str] = mapped_column(Text, default="{}")


class Group(Item, Base):
    """A group of users (local, or a system group through PAM) carrying roles."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("name", name="uq_groups_name"),)
    roles: Mapped[list[Role]] = relationship(secondary=group_roles)


class User(Item, Base):
    """An account: local (argon2 hash) or a system account checked through PAM."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name", name="uq_users_name"),)
    __query_hidden__ = {"password_hash"}
    source: Mapped[str] = mapped_column(String(16), default="local")
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    roles: Mapped[list[Role]] = relationship(secondary=user_roles)
    groups: Mapped[list[Group]] = relationship(secondary=user_groups)


class Token(Base):
    """An access token, stored as the SHA-256 of its random value."""

    __tablename__ = "tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user: Mapped[User] = relationship()
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires: Mapped[datetime] = mapped_column(DateTime, index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginFailure(Base):
    """Recent failed log-ins per key (``user:<name>`` or ``addr:<ip>``), for throttling."""

    __tablename__ = "login_failures"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Meta(Base):
    """Facts about the store itself (e.g. when it was last populated)."""

    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
