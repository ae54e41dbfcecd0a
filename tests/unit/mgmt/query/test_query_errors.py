"""Every malformed query raises QueryError whose text says exactly what is wrong."""

from __future__ import annotations

import pytest
from query_models import Snapshot, Space

from gpfskit.mgmt.query import QueryError, parse_collection_query

WHERE_ERRORS = [
    # (where, a piece of the message)
    ('{"secret": "hash"}', "unknown field 'secret'"),  # __query_hidden__
    ("secret == 'hash'", "unknown field 'secret'"),
    ('{"nope": 1}', "unknown field 'nope'; fields: active, comment, created, id, name,"),
    ('{"exposers.nope": 1}', "unknown field 'exposers.nope' in 'exposers.nope'"),
    ('{"exposers.spaces.secret": 1}', "unknown field 'exposers.spaces.secret'"),
    ('{"name.first": 1}', "'name' is a field, not a relationship"),
    ('{"exposers": 1}', "'exposers' is a relationship; name one of its fields"),
    ('{"exposers..name": 1}', "empty part between dots"),
    ('{"size": "ten"}', "field 'size' takes a whole number; got the text 'ten' (at size)"),
    ('{"size": 1.5}', "takes a whole number; got the number 1.5"),
    ('{"size": true}', "takes a whole number; got true"),
    ('{"size": 99999999999999999999}', "takes a whole number"),
    ('{"usage": "lots"}', "field 'usage' takes a number"),
    ('{"active": 1}', "field 'active' takes true or false"),
    ('{"created": "yesterday"}', "takes an ISO 8601 date-time"),
    ('{"status": "GONE"}', "field 'status' is one of NEW, ACTIVE, ERRORED; got the text 'GONE'"),
    ('{"name": 5}', "field 'name' takes text; got the number 5"),
    ('{"name": "a\\u0000b"}', "field 'name' takes text"),
    ('{"name": "\\ud800"}', "field 'name' takes text"),
    ('{"name": ["a", "b"]}', 'use {"$in": [...]}'),
    ('{"name": {}}', "an empty object is not a condition on 'name'"),
    ('{"name": {"first": 1}}', "'first' is not an operator"),
    ('{"name": {"$like": "a%"}}', "unknown operator '$like'; known: $eq,"),
    ('{"$where": "1"}', "unknown operator '$where' here; outside a field only $and, $or, $nor"),
    ('{"$gt": 1}', "it applies to a field"),
    ('{"$or": []}', "$or takes a non-empty array"),
    ('{"$or": {"name": 1}}', "$or takes a non-empty array of conditions, not an object"),
    ('{"$and": [1]}', "each condition of $and is an object, not a number (at $and[0])"),
    ('{"$or": [{"name": "x"}, {"size": {"$gt": null}}]}', "$gt needs a value, not null "
     "(at $or[1].size.$gt)"),
    ('{"size": {"$in": 5}}', "$in takes an array of values, not a number"),
    ('{"size": {"$in": [1, "x"]}}', "got the text 'x' (at size.$in[1])"),
    ('{"size": {"$regex": "1"}}', "$regex needs a text field; 'size' is not text"),
    ('{"name": {"$regex": 5}}', "$regex takes a string, not a number"),
    ('{"name": {"$regex": "("}}', "is not a regular expression"),
    ('{"name": {"$regex": "(?P<x>a)"}}', "which not every database runs"),
    ('{"name": {"$regex": "a{,3}"}}', "without a lower bound"),
    ('{"name": {"$regex": "a{300}"}}', "a repeat count above 255"),
    ('{"name": {"$regex": "a*+"}}', "possessive"),
    ('{"name": {"$regex": "\\\\bsnake"}}', "a word boundary in Python"),
    ('{"name": {"$regex": "(?>a)"}}', "the group '(?>a'"),
    ('{"name": {"$regex": "^[[:alpha:]]+$"}}', "a POSIX class"),
    ('{"name": {"$regex": "(?i)a"}}', "the group '(?i)'"),
    ('{"name": {"$regex": "a", "$options": "m"}}', "$options supports only 'i'"),
    ('{"name": {"$options": "i"}}', "$options goes with $regex"),
    ('{"name": {"$not": 5}}', "$not takes a non-empty object of operators"),
    ('{"name": {"$exists": 1}}', "$exists takes true or false, not a number"),
    ('{"name": "a", "name": "b"}', "the key 'name' appears twice"),
    ('{"size": NaN}', "NaN is not a JSON value"),
    ('{"size": ' + "9" * 5000 + "}", "not valid JSON: Exceeds the limit"),
    ('{"created": "0001-01-01T00:00:00+01:00"}', "takes an ISO 8601 date-time"),
    ('{"name": ', "not valid JSON: Expecting value at line 1 column 9"),
    ("[1, 2]", "a JSON query is an object, not an array"),
    ('{"$and": [' * 40 + "{}" + "]}" * 40, "nest more than 16 levels"),
    # Python-style
    ('name == "x" and (', "not a valid expression: '(' was never closed at column 17"),
    ("name ==", "not a valid expression"),
    ('len(name) == 3', "function calls are not allowed in a query (at column 1)"),
    ('name == "x".upper()', "function calls are not allowed in a query (at column 9)"),
    ('name.upper == "X"', "'name' is a field, not a relationship"),
    ('name == "ab"[0]', "subscripts are not allowed in a query (at column 9)"),
    ('name == f"{size}"', "f-strings are not allowed in a query (at column 9)"),
    ('size == 1 + 1', "arithmetic operators are not allowed"),
    ("(lambda: 1)() == 1", "function calls are not allowed"),
    ("size == (lambda: 1)", "lambdas are not allowed"),
    ("size in [x for x in (1, 2)]", "'in' takes a list or tuple of values"),
    ("size == [x for x in (1, 2)]", "comprehensions are not allowed"),
    ("size == -name", "a sign goes only before a number"),
    ("size == ~1", "operators other than not"),
    ("name == size", "comparing two fields is not supported; compare a field with a literal "
     "(at column 9)"),
    ('"a" == "a"', "a comparison needs a field on one side (at column 1)"),
    ("active", "'active' alone is not a condition"),
    ("True", "a literal alone is not a condition"),
    ('size is 5', "'is' and 'is not' compare only with None (at column 9)"),
    ('size > None', "an ordering comparison needs a value, not None"),
    ("size in 5", "'in' takes a list or tuple of values"),
    ('5 in size', "'in' takes the field on its left"),
    ("name == b'x'", "bytes literals are not allowed"),
    ("size == 1j", "complex literals are not allowed"),
    ("size == 1e999", "a number too large to store"),
    ('name == -"x"', "a sign goes only before a number"),
    ("active == true", "unknown field 'true'; the literals are True, False and None"),
    ('size == "x" or size == 2',
     "field 'size' takes a whole number; got the text 'x' (at column 9)"),
    ('name == "é" and siz == 1', "unknown field 'siz'"),
    ('name == "é" and siz == 1', "(at column 17)"),  # columns count characters, not bytes
    ('  size == "x"', "(at column 11)"),
    ('(size == 1 and\n  siz == 2)', "(at line 2, column 3)"),
    ("(x := 1) == 1", "assignments are not allowed"),
    ("size == (1 if 1 else 2)", "if-expressions are not allowed"),
    ("not " * 40 + "size == 1", "nest more than 16 levels"),
    ("a\x00 == 1", "NUL character"),
    ('{"name": "' + "x" * 20001 + '"}', "longer than 20000 characters"),
]


@pytest.mark.parametrize(("where", "message"), WHERE_ERRORS)
def test_where_errors(where: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_collection_query(Space, where=where)
    assert message in str(raised.value)
    assert str(raised.value).startswith("where: ")


def test_too_many_comparisons() -> None:
    where = " or ".join(f"size == {n}" for n in range(300))
    with pytest.raises(QueryError, match="more than 256 comparisons"):
        parse_collection_query(Space, where=where)


def test_to_one_errors_name_the_related_model() -> None:
    with pytest.raises(QueryError, match=r"unknown field 'space\.secret'.*fields: space\.active"):
        parse_collection_query(Snapshot, where='{"space.secret": 1}')


OTHER_ERRORS = [
    ({"sort": "nope"}, "sort: unknown field 'nope'"),
    ({"sort": "secret"}, "sort: unknown field 'secret'"),
    ({"sort": "name,,size"}, "sort: key 2 is empty"),
    ({"sort": "name,-name"}, "sort: 'name' is named twice"),
    ({"sort": "exposers.name"}, "cannot sort by 'exposers.name': it goes through a to-many"),
    ({"sort": '[("name", 2)]'}, "the direction of 'name' is 1 (ascending) or -1"),
    ({"sort": '[("name", -1'}, "sort: expected a list such as"),
    ({"sort": "[]"}, "expected a non-empty list"),
    ({"sort": '["name"]'}, 'item 1 is not a ("field", 1 or -1) pair'),
    ({"sort": '[("nope", 1)]'}, "sort: unknown field 'nope'"),
    ({"projection": '{"secret": 1}'}, "projection: unknown field 'secret'"),
    ({"projection": '{"name": 1, "size": 0}'}, "projection: 'name' is included and 'size' "
     "excluded; use one kind"),
    ({"projection": '{"name": 2}'}, "the value of 'name' is 1 (include) or 0 (exclude), not 2"),
    ({"projection": '{"name": "1"}'}, "the value of 'name' is 1 (include) or 0"),
    ({"projection": '{"name.x": 1}'}, "projection: unknown field 'name.x'"),
    ({"projection": "[1]"}, 'projection: expected an object such as {"status": 1}'),
    ({"projection": "{"}, "projection: not valid JSON"),
    ({"projection": '{"name": ' + "1" * 5000 + "}"}, "projection: not valid JSON"),
    ({"max_results": "abc"}, "max_results: expected a whole number of at least 1, got 'abc'"),
    ({"max_results": "0"}, "max_results: expected a whole number of at least 1, got 0"),
    ({"max_results": -5}, "max_results: expected a whole number of at least 1, got -5"),
    ({"max_results": "1.5"}, "max_results: expected a whole number"),
    ({"max_results": True}, "max_results: expected a whole number"),
    ({"max_results": "١٢"}, "max_results: expected a whole number"),  # non-ASCII digits
    ({"page": "0"}, "page: expected a whole number from 1 to 2147483647, got 0"),
    ({"page": "2147483648"}, "page: expected a whole number from 1 to 2147483647"),
    ({"page": "x"}, "page: expected a whole number"),
    ({"where": 5}, "where: expected text, got int"),
]


@pytest.mark.parametrize(("params", "message"), OTHER_ERRORS)
def test_parameter_errors(params: dict, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_collection_query(Space, **params)
    assert message in str(raised.value)
