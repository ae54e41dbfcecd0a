"""Values are coerced to each column type, or refused with the field and the value named."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import pytest
from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    Numeric,
    String,
    TypeDecorator,
    Uuid,
    create_engine,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from gpfskit.mgmt.query import QueryError, parse_collection_query
from gpfskit.mgmt.query.fields import resolve
from gpfskit.mgmt.query.values import coerce


class Colour(enum.Enum):
    RED = "r"
    BLUE = "b"


class Lowercase(TypeDecorator):
    """Text stored in lower case (a decorated type: coerced as its underlying String)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.lower()


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    day: Mapped[dt.date | None] = mapped_column(Date)
    at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2))
    colour: Mapped[Colour | None] = mapped_column(Enum(Colour))
    label: Mapped[str | None] = mapped_column(Lowercase)


KEY = uuid.UUID("de95cf28-fdf9-5455-b1d9-831cf8a1869b")


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("key", str(KEY).upper(), KEY),
    ("day", "2026-03-01", dt.date(2026, 3, 1)),
    ("at", "2026-03-01T12:00:00", dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)),
    ("at", "2026-03-01T13:00:00+01:00",
     dt.datetime(2026, 3, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    ("price", "12.50", decimal.Decimal("12.50")),
    ("price", 3, decimal.Decimal("3")),
    ("colour", "RED", Colour.RED),
    ("label", "Mixed", "Mixed"),
    ("id", "42", 42),
    ("id", 7.0, 7),
    ("id", None, None),
])
def test_coerced(field: str, value, expected) -> None:
    assert coerce(resolve(Thing, field), value) == expected


@pytest.mark.parametrize(("field", "value", "message"), [
    ("key", "not-a-uuid", "field 'key' takes a UUID; got the text 'not-a-uuid'"),
    ("day", "2026-02-30", "field 'day' takes an ISO 8601 date such as 2026-01-31"),
    ("price", "12,50", "field 'price' takes a number"),
    ("colour", "r", "field 'colour' is one of RED, BLUE; got the text 'r'"),
    ("label", 5, "field 'label' takes text; got the number 5"),
    ("id", 2**63, "field 'id' takes a whole number"),
])
def test_refused(field: str, value, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        coerce(resolve(Thing, field), value)


def test_each_type_queries_on_sqlite() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([
            Thing(id=1, key=KEY, day=dt.date(2026, 3, 1), price=decimal.Decimal("12.50"),
                  colour=Colour.RED, label="Alpha"),
            Thing(id=2, key=uuid.uuid4(), day=dt.date(2026, 4, 1), price=decimal.Decimal("3"),
                  colour=Colour.BLUE, label="beta"),
        ])
        session.commit()

        def ids(where: str) -> list[int]:
            query = parse_collection_query(Thing, where=where)
            return [thing.id for thing in session.scalars(query.apply(select(Thing)))]

        assert ids(f'key == "{KEY}"') == [1]
        assert ids('{"day": {"$gte": "2026-03-15"}}') == [2]
        assert ids('{"price": {"$lt": "10"}}') == [2]
        assert ids('colour in ("RED",)') == [1]
        assert ids('{"label": "ALPHA"}') == [1]  # the decorated type lowers the bound value
    engine.dispose()
