"""Small declarative models for the query tests: spaces <-> exposers (to-many, through an
association table), snapshots -> space (to-one), and a fixed data set with nulls, empty
relationships and non-ASCII text."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


space_exposers = Table(
    "space_exposers", Base.metadata,
    Column("space_id", ForeignKey("spaces.id"), primary_key=True),
    Column("exposer_id", ForeignKey("exposers.id"), primary_key=True),
)


class Exposer(Base):
    __tablename__ = "exposers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    filesystem: Mapped[str | None] = mapped_column(String(64))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    spaces: Mapped[list[Space]] = relationship(secondary=space_exposers,
                                               back_populates="exposers")


class Space(Base):
    __tablename__ = "spaces"
    __query_hidden__ = {"secret"}
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(
        Enum("NEW", "ACTIVE", "ERRORED", name="space_status", native_enum=False))
    size: Mapped[int | None] = mapped_column(BigInteger)
    usage: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool | None] = mapped_column(Boolean)
    created: Mapped[dt.datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64), default="hash")
    exposers: Mapped[list[Exposer]] = relationship(secondary=space_exposers,
                                                   back_populates="spaces")
    snapshots: Mapped[list[Snapshot]] = relationship(back_populates="space")


class Snapshot(Base):
    __tablename__ = "snapshots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    space_id: Mapped[str | None] = mapped_column(ForeignKey("spaces.id"))
    space: Mapped[Space | None] = relationship(back_populates="snapshots")


def item_id(prefix: str, number: int) -> str:
    """The id of item ``number`` (1-based): prefix e exposers, a spaces, b snapshots."""
    return f"{prefix}{number:07d}-0000-4000-8000-000000000000"


EXPOSERS = [
    # name, type, filesystem, mountpoint
    ("mmfs1", "gpfsnative", "mmfs1", "/gpfs/mmfs1"),
    ("proj-nfs", "nfs", "mmfs1", None),
    ("home-smb", "smb", "mmfs2", None),
    ("mmfs2", "gpfsnative", "mmfs2", "/gpfs/mmfs2"),
    ("scratch", "nfs", None, None),
]

SPACES = [
    # name, status, size, usage, active, created, comment, exposers (1-based)
    ("sleepy-snake", "ACTIVE", 4294967296, 0.25, True, dt.datetime(2026, 1, 5, 10), "first",
     [1, 2]),
    ("busy-bee", "ACTIVE", 1073741824, 0.5, True, dt.datetime(2026, 1, 10, 9, 30), None, [1]),
    ("lazy-lion", "ERRORED", None, None, False, dt.datetime(2026, 2, 1), "retry me", [3, 4]),
    ("quick-quail", "NEW", 10, 1.0, False, dt.datetime(2026, 2, 15, 12), "", []),
    ("Sleepy-Sloth", "ACTIVE", 2147483648, 0.75, True, dt.datetime(2026, 3, 1), "first", [2, 5]),
    ("odd-otter", "ACTIVE", 0, 0.0, None, None, "odd", [4]),
    ("zany-zebra", "NEW", 10, 0.125, True, dt.datetime(2026, 3, 20, 23, 59), None, [1, 3, 4]),
    ("épée", "ACTIVE", 5, 2.5, False, dt.datetime(2026, 4, 1), "ünïcode", [5]),
]

SNAPSHOTS = [
    # name, type, created, space (1-based or None)
    ("daily-1", "gpfsspacesnapshot", dt.datetime(2026, 3, 1), 1),
    ("daily-2", "gpfsspacesnapshot", dt.datetime(2026, 3, 2), 1),
    ("weekly-1", "gpfsspacesnapshot", dt.datetime(2026, 3, 7), 3),
    ("global-1", "gpfssnapshot", dt.datetime(2026, 3, 8), None),
    ("daily-1", "gpfsspacesnapshot", dt.datetime(2026, 3, 9), 5),
    ("monthly", "gpfsspacesnapshot", dt.datetime(2026, 4, 1), 7),
    ("global-2", "gpfssnapshot", dt.datetime(2026, 4, 2), None),
    ("adhoc", "gpfsspacesnapshot", dt.datetime(2026, 4, 3), 2),
]


def dataset() -> list[Base]:
    """Fresh objects for the fixed data set (to add to a session)."""
    exposers = [Exposer(id=item_id("e", i), name=n, type=t, filesystem=f, mountpoint=m)
                for i, (n, t, f, m) in enumerate(EXPOSERS, 1)]
    spaces = [Space(id=item_id("a", i), name=n, status=st, size=sz, usage=u, active=a,
                    created=c, comment=cm, exposers=[exposers[k - 1] for k in ex])
              for i, (n, st, sz, u, a, c, cm, ex) in enumerate(SPACES, 1)]
    snapshots = [Snapshot(id=item_id("b", i), name=n, type=t, created=c,
                          space=spaces[s - 1] if s else None)
                 for i, (n, t, c, s) in enumerate(SNAPSHOTS, 1)]
    return [*exposers, *spaces, *snapshots]
