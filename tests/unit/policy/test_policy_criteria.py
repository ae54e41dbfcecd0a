"""Criteria -> SQL text, checked by parsing it back with the policy language parser."""

from __future__ import annotations

import datetime

import pytest

from gpfskit.language import (
    EvalContext,
    Like,
    Literal,
    format_expression,
    matches,
    parse_expression,
)
from gpfskit.policy.criteria import Criteria, CriteriaList


def sql(criteria: Criteria) -> str:
    text = str(criteria)
    assert parse_expression(text) == criteria.expr  # valid and canonical
    return text


def test_like_uses_star_as_wildcard():
    assert sql(Criteria.like("name", "*.ptc")) == "NAME LIKE '%.ptc'"
    assert sql(Criteria.like("path", "/gpfs/mmfs1/proj*/*")) == \
        "PATH_NAME LIKE '/gpfs/mmfs1/proj%/%'"


def test_like_escapes_sql_wildcards_in_the_pattern():
    c = Criteria.like("name", "a_b%c*")
    assert sql(c) == "NAME LIKE 'a\\_b\\%c%' ESCAPE '\\'"
    ctx = EvalContext(0)
    assert matches(c.expr, {"NAME": "a_b%c.txt"}, ctx)
    assert not matches(c.expr, {"NAME": "axb%c.txt"}, ctx)
    assert not matches(c.expr, {"NAME": "a_bxc.txt"}, ctx)


def test_unlike():
    assert sql(Criteria.unlike("name", "*.tmp")) == "NAME NOT LIKE '%.tmp'"


@pytest.mark.parametrize(("method", "op"), [
    ("eq", "="), ("ne", "<>"), ("gt", ">"), ("lt", "<"), ("ge", ">="), ("le", "<=")])
def test_comparisons(method, op):
    assert sql(getattr(Criteria, method)("size", 1024)) == f"FILE_SIZE {op} 1024"


def test_friendly_names():
    assert sql(Criteria.eq("pool", "sas1")) == "POOL_NAME = 'sas1'"
    assert sql(Criteria.eq("fileset", "projects")) == "FILESET_NAME = 'projects'"
    assert sql(Criteria.eq("user", 1000)) == "USER_ID = 1000"
    assert sql(Criteria.eq("group", "100")) == "GROUP_ID = 100"
    assert sql(Criteria.eq("path", "/a")) == "PATH_NAME = '/a'"


def test_user_and_group_names_are_resolved_to_ids():
    assert sql(Criteria.eq("user", "root")) == "USER_ID = 0"
    assert sql(Criteria.ne("group", "root")) == "GROUP_ID <> 0"
    with pytest.raises(ValueError, match="unknown user"):
        Criteria.eq("user", "no-such-user-here")


def test_times_compare_days_of_age():
    assert sql(Criteria.gt("access", 30)) == \
        "DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME) > 30"
    assert sql(Criteria.le("modification", 7)) == \
        "DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME) <= 7"
    assert sql(Criteria.ge("creation", 365)) == \
        "DAYS(CURRENT_TIMESTAMP) - DAYS(CREATION_TIME) >= 365"
    now = datetime.datetime(2024, 3, 1, 12).timestamp()
    c = Criteria.gt("access", 30)
    assert matches(c.expr, {"ACCESS_TIME": now - 40 * 86400}, EvalContext(now))
    assert not matches(c.expr, {"ACCESS_TIME": now - 10 * 86400}, EvalContext(now))


def test_times_compare_with_datetimes():
    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert sql(Criteria.lt("modification", when)) == \
        "MODIFICATION_TIME < TIMESTAMP('2024-01-02 03:04:05')"
    assert sql(Criteria.ge("ACCESS_TIME", datetime.date(2024, 1, 2))) == \
        "ACCESS_TIME >= TIMESTAMP('2024-01-02 00:00:00')"


def test_sizes_take_units():
    assert sql(Criteria.gt("size", "10M")) == "FILE_SIZE > 10485760"
    assert sql(Criteria.lt("size", "1.5G")) == "FILE_SIZE < 1610612736"
    with pytest.raises(ValueError, match="not a size"):
        Criteria.gt("size", "big")


def test_raw_attribute_names_in_any_case():
    assert sql(Criteria.like("MISC_ATTRIBUTES", "*X*")) == "MISC_ATTRIBUTES LIKE '%X%'"
    assert sql(Criteria.gt("kb_allocated", 10)) == "KB_ALLOCATED > 10"
    assert sql(Criteria.eq("nlink", 2)) == "NLINK = 2"
    with pytest.raises(ValueError, match="unknown file attribute"):
        Criteria.eq("colour", "red")


def test_none_is_null():
    assert sql(Criteria.eq("CLONE_PARENT_INODE", None)) == "CLONE_PARENT_INODE IS NULL"
    assert sql(Criteria.ne("CLONE_PARENT_INODE", None)) == "CLONE_PARENT_INODE IS NOT NULL"
    with pytest.raises(ValueError):
        Criteria.gt("size", None)


def test_quotes_cannot_inject():
    evil = "x' OR '1'='1"
    c = Criteria.eq("name", evil)
    assert sql(c) == "NAME = 'x'' OR ''1''=''1'"
    assert isinstance(parse_expression(str(c)).right, Literal)
    assert parse_expression(str(c)).right.value == evil
    like = Criteria.like("name", "it's*")
    assert isinstance(like.expr, Like) and like.expr.pattern.value == "it's%"
    assert parse_expression(str(like)) == like.expr


def test_boolean_combinations():
    big = Criteria.gt("size", 100)
    old = Criteria.gt("access", 30)
    assert sql(Criteria.And(big, old)) == \
        "FILE_SIZE > 100 AND DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME) > 30"
    assert sql(Criteria.Or(Criteria.eq("pool", "a"), Criteria.eq("pool", "b"),
                           "MISC_ATTRIBUTES LIKE '%X%'")) == \
        "POOL_NAME = 'a' OR POOL_NAME = 'b' OR MISC_ATTRIBUTES LIKE '%X%'"
    assert sql(Criteria.Not(big)) == "NOT FILE_SIZE > 100"
    assert sql(Criteria.And(Criteria.Or("NLINK = 1", "NLINK = 2"), big)) == \
        "(NLINK = 1 OR NLINK = 2) AND FILE_SIZE > 100"
    assert (big & old) == Criteria.And(big, old)
    assert (big | old) == Criteria.Or(big, old)
    assert ~big == Criteria.Not(big)
    assert ("NLINK = 1" & big) == Criteria.And("NLINK = 1", big)


def test_raw_sql_is_parsed():
    c = Criteria("name like '%.mp4'")
    assert str(c) == "NAME LIKE '%.mp4'"
    assert Criteria.raw("FILE_SIZE>0") == Criteria.gt("size", 0)
    with pytest.raises(ValueError, match="invalid SQL"):
        Criteria("FILE_SIZE >")
    with pytest.raises(TypeError):
        Criteria(42)


def test_criteria_list_ands_its_members():
    items = CriteriaList()
    assert items.expression() is None and str(items) == "" and not items
    first = items.new(Criteria.gt("size", 1))
    items.new("NLINK = 1")
    assert len(items) == 2 and items[0] is first
    assert format_expression(items.expression()) == "FILE_SIZE > 1 AND NLINK = 1"
    items.destroy(first)
    assert str(items) == "NLINK = 1"
    items.destroy(0)
    assert not items
