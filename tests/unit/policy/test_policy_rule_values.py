"""Property: a rule parsed back from its own policy text reads the same option values.

A rule holds only its syntax-tree fields and derives what its options read from them, so
``Rule.from_text(str(rule))`` must give back equal values for every option of every rule
class, however the options were given (one fileset or several, a Criteria or SQL text, a
list of attribute names for SHOW ...).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpfskit.language import format_rule, parse_policy, parse_rule
from gpfskit.policy import (
    Criteria,
    DeleteRule,
    ExcludeRule,
    ExternalListRule,
    ExternalPoolRule,
    ListProcessingRule,
    ListRule,
    MapReduceRule,
    MigrateRule,
    RawRule,
    Rule,
    SetPoolRule,
)

_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names with the characters most likely to upset quoting.
names = st.text(alphabet=st.one_of(st.sampled_from("'\"%_ []/*-$,()\\@#é€中"),
                                   st.characters(codec="utf-8", exclude_categories=("Cs",))),
                min_size=1, max_size=8)
_SQL = ["KB_ALLOCATED", "FILE_SIZE * 2", "DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME)",
        "CASE WHEN FILE_SIZE > 1024 THEN 1 ELSE 0 END", "NAME LIKE '%.tmp'"]
sql = st.one_of(st.sampled_from(_SQL), st.sampled_from(_SQL).map(Criteria),
                st.integers(0, 10**9), st.floats(0, 1e6))
percentages = st.one_of(st.integers(0, 100), st.floats(0, 100))
thresholds = st.one_of(percentages, st.lists(percentages, min_size=1, max_size=3).map(tuple))
filesets = st.one_of(names, st.lists(names, min_size=1, max_size=3))
shows = st.one_of(
    st.sampled_from(["VARCHAR(FILE_SIZE)", "'owner=' || VARCHAR(USER_ID)", "'a' 'b'"]),
    st.lists(st.sampled_from(["size", "user", "FILE_SIZE", "access", "MODE", "path"]),
             min_size=1, max_size=4),
)
criteria = st.one_of(st.none(), st.sampled_from(
    ["NLINK = 1", Criteria.like("name", "*.c"), Criteria.gt("size", "1M")]))

OPTION_VALUES = {
    "source": names, "target": names, "listname": names, "poolname": names,
    "compress": names, "script": names, "opts": names, "escape": names,
    "threshold": thresholds, "weight": sql, "size": sql, "action": sql, "when": sql,
    "limit": percentages, "replicate": st.integers(1, 3), "fileset": filesets,
    "show": shows, "directories_plus": st.booleans(), "exclude": st.booleans(),
}
#: What each class needs for its text to print, and what cannot be given to it.
REQUIRED = {SetPoolRule: ("target",), MigrateRule: ("target",), ListRule: ("listname",),
            ExternalListRule: ("listname",), ExternalPoolRule: ("poolname", "script")}
NO_CRITERIA = (ExternalListRule, ExternalPoolRule)
SPECIAL = {ExternalListRule: {"threshold": st.sampled_from(
    ["FILESET_QUOTA_SOFT", "USER_QUOTAS", "POOL_QUOTA_HARD"])}}
CLASSES = [SetPoolRule, MigrateRule, DeleteRule, ListRule, ExcludeRule, ExternalListRule,
           ExternalPoolRule]


@st.composite
def built_rules(draw, cls):
    """A rule of ``cls`` built through its constructor with a random set of options."""
    strategies = {option: SPECIAL.get(cls, {}).get(option, OPTION_VALUES[option])
                  for option in cls.options}
    chosen = draw(st.sets(st.sampled_from(sorted(strategies))))
    options = {option: draw(strategies[option])
               for option in sorted(chosen | set(REQUIRED.get(cls, ())))}
    name = draw(st.none() | names)
    where = None if cls in NO_CRITERIA else draw(criteria)
    positional = [options.pop(o) for o in ("listname", "poolname") if o in options]
    if cls is ExternalPoolRule:
        positional.append(options.pop("script"))
    return cls(*positional, name=name, criteria=where, **options)


def _values(rule: Rule) -> dict[str, object]:
    return {"class": type(rule), "name": rule.name, "criteria": str(rule.criteria),
            **{option: getattr(rule, option) for option in rule.options}}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_options_read_the_same_after_a_round_trip_through_text(cls):
    @_SETTINGS
    @given(built_rules(cls))
    def check(rule):
        back = Rule.from_text(str(rule))
        assert _values(back) == _values(rule), str(rule)
        assert str(back) == str(rule)

    check()


@pytest.mark.parametrize("cls", [ListProcessingRule, MapReduceRule], ids=lambda c: c.__name__)
def test_processing_rules_list_rule_reads_the_same_options(cls):
    """A processing rule prints an EXTERNAL LIST and a LIST; the LIST reads its options."""
    @_SETTINGS
    @given(st.fixed_dictionaries({}, optional={o: OPTION_VALUES[o] for o in cls.options}),
           criteria)
    def check(options, where):
        rule = cls("proc", len, criteria=where, **options)
        external, listing = parse_policy(str(rule))
        back = Rule.from_ast(listing)
        assert type(Rule.from_ast(external)) is ExternalListRule
        assert type(back) is ListRule and back.listname == "proc"
        assert {o: getattr(back, o) for o in rule.options} == \
            {o: getattr(rule, o) for o in rule.options}
        assert str(back.criteria) == str(rule.criteria)

    check()


def test_raw_rule_round_trip():
    text = "RULE 'grp' GROUP POOL 'gp' IS 'system' LIMIT(80) THEN 'sas1'"
    back = Rule.from_text(str(RawRule(text)))
    assert type(back) is RawRule and back.to_ast() == parse_rule(text)
    assert format_rule(back.to_ast()) == text


def test_friendly_values_are_those_of_the_tree():
    rule = SetPoolRule(target="sas1", fileset="projects")
    assert rule.fileset == ("projects",) == Rule.from_text(str(rule)).fileset
    rule = MigrateRule(target="t", threshold=[80, 60], weight=Criteria("KB_ALLOCATED*2"))
    assert rule.threshold == (80, 60) and rule.weight == "KB_ALLOCATED * 2"
    back = Rule.from_text(str(rule))
    assert back.threshold == (80, 60) and back.weight == "KB_ALLOCATED * 2"
    listing = ListRule("l").show_attributes("size")
    assert listing.show == "'FILE_SIZE=' || VARCHAR(FILE_SIZE)"
    assert ListRule("l").directories_plus is False and ListRule("l").source is None


def test_checking_a_rule_changes_nothing():
    rule = ExternalListRule("l")
    rule.change(script=None)
    before = dict(rule._fields)
    assert str(rule) == "RULE EXTERNAL LIST 'l' EXEC ''"
    assert rule._fields == before and rule.script == ""
    bad = ExternalListRule("l", criteria="NLINK = 1")
    with pytest.raises(ValueError, match="no criteria"):
        str(bad)
    assert bad._fields == {"list_name": "l", "exec_": ""}
