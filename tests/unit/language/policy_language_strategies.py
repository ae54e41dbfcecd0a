"""Hypothesis strategies for policy-language trees (shared by the property tests)."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from gpfskit.language import (
    ATTRIBUTES,
    FUNCTIONS,
    Attribute,
    Between,
    Binary,
    Case,
    CurrentDate,
    CurrentTime,
    CurrentTimestamp,
    Function,
    In,
    Interval,
    IsNull,
    Like,
    Literal,
    Policy,
    Rule,
    RuleKind,
    Unary,
)
from gpfskit.language.parser import ALLOWED_CLAUSES

# Text with the characters most likely to upset quoting, comments and macros.
_TRICKY = "'%_ []/*-$,()\n\\@#é€中"
texts = st.text(
    alphabet=st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8")), max_size=10
)

_finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)

literals = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    _finite_floats,
    texts,
).map(Literal)

leaves = st.one_of(
    literals,
    st.sampled_from(sorted(ATTRIBUTES)).map(Attribute),
    st.sampled_from([CurrentTimestamp(), CurrentDate(), CurrentTime()]),
)

_BINARY_OPS = ["AND", "OR", "=", "<>", "<", ">", "<=", ">=", "+", "-", "*", "/", "||"]


def _functions(children):
    def build(name):
        low, high = FUNCTIONS[name]
        return st.lists(children, min_size=low, max_size=max(low, min(high, 3))).map(
            lambda args: Function(name, tuple(args))
        )

    return st.sampled_from(sorted(FUNCTIONS)).flatmap(build)


def extend_expressions(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        st.builds(Binary, st.sampled_from(_BINARY_OPS), children, children),
        st.builds(Unary, st.sampled_from(["NOT", "-"]), children),
        st.builds(Like, children, children, st.none() | children, st.booleans()),
        st.builds(
            In, children, st.lists(children, min_size=1, max_size=3).map(tuple), st.booleans()
        ),
        st.builds(Between, children, children, children, st.booleans()),
        st.builds(IsNull, children, st.booleans()),
        st.builds(
            Case,
            st.lists(pairs, min_size=1, max_size=2).map(tuple),
            st.none() | children,
            st.none() | children,
        ),
        st.builds(
            Interval,
            children,
            st.sampled_from(["DAYS", "HOURS", "MINUTES", "SECONDS", "DAY", "second"]),
        ),
        _functions(children),
    )


expressions = st.recursive(leaves, extend_expressions, max_leaves=10)

_positive_numbers = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e6).filter(lambda x: math.copysign(1, x) > 0),
)

_CLAUSE_VALUES = {
    "WHEN": ("when", expressions),
    "FROM POOL": ("from_pool", texts),
    "THRESHOLD": (
        "threshold",
        st.lists(_positive_numbers, min_size=1, max_size=3).map(tuple),
    ),
    "WEIGHT": ("weight", expressions),
    "TO POOL": ("to_pool", texts),
    "LIMIT": ("limit", _positive_numbers),
    "REPLICATE": ("replicate", _positive_numbers),
    "FOR FILESET": ("for_fileset", st.lists(texts, min_size=1, max_size=3).map(tuple)),
    "SHOW": ("show", st.lists(expressions, min_size=1, max_size=3).map(tuple)),
    "SIZE": ("size", expressions),
    "ACTION": ("action", expressions),
    "WHERE": ("where", expressions),
    "DIRECTORIES_PLUS": ("directories_plus", st.booleans()),
    "EXEC": ("exec_", texts),
    "OPTS": ("opts", texts),
    "ESCAPE": ("escape", texts),
    "COMPRESS": ("compress", texts),
    "EXCLUDE": ("exclude", st.booleans()),
}

_VERB_FIELDS = {
    RuleKind.SET_POOL: {"pool": texts},
    RuleKind.SET_SNAP_POOL: {"pool": texts},
    RuleKind.GROUP_POOL: {
        "pool": st.none() | texts,
        "group_members": st.lists(
            st.tuples(texts, st.none() | _positive_numbers), min_size=1, max_size=3
        ).map(tuple),
    },
    RuleKind.LIST: {"list_name": texts},
    RuleKind.RESTORE: {"to_pool": texts},
    RuleKind.EXTERNAL_POOL: {"pool": texts},
    RuleKind.EXTERNAL_LIST: {"list_name": texts},
    RuleKind.ENCRYPTION: {
        "encryption_specs": texts.map(lambda t: (t,)),
        "encryption_algo": texts,
        "encryption_keys": st.lists(texts, min_size=1, max_size=3).map(tuple),
    },
    RuleKind.SET_ENCRYPTION: {
        "encryption_specs": st.lists(texts, min_size=1, max_size=3).map(tuple)
    },
}


@st.composite
def rules(draw, kind=None):
    kind = kind or draw(st.sampled_from(list(RuleKind)))
    fields = {"name": draw(st.none() | texts)}
    for field, strategy in _VERB_FIELDS.get(kind, {}).items():
        fields[field] = draw(strategy)
    for clause in sorted(ALLOWED_CLAUSES[kind]):
        field, strategy = _CLAUSE_VALUES[clause]
        if kind is RuleKind.EXTERNAL_LIST and clause == "THRESHOLD":
            strategy = texts
        if draw(st.booleans()):
            fields[field] = draw(strategy)
    return Rule(kind=kind, **fields)


policies = st.lists(rules(), max_size=4).map(lambda rs: Policy(tuple(rs)))
