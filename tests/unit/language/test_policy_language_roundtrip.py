"""Property: printing a tree and parsing the text gives back an equal tree."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from policy_language_strategies import expressions, policies, rules

from gpfskit.language import (
    format_expression,
    format_policy,
    format_rule,
    parse_expression,
    parse_policy,
    parse_rule,
)
from gpfskit.language.ast import Attribute, Literal, Rule, RuleKind

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(expressions)
def test_expression_round_trip(expr):
    text = format_expression(expr)
    assert parse_expression(text) == expr, text


#: Found by hypothesis: a name followed by two parenthesised SHOW items printed as
#: ``SHOW(ACCESS_TIME (NULL) (-1))``, which reads as a call of ACCESS_TIME.
_SHOW_OF_A_NAME_BEFORE_PARENTHESES = Rule(
    kind=RuleKind.DELETE,
    show=(Attribute("ACCESS_TIME"), Literal(None), Literal(-1)),
)


@_SETTINGS
@given(rules())
@example(_SHOW_OF_A_NAME_BEFORE_PARENTHESES)
def test_rule_round_trip(rule):
    text = format_rule(rule)
    assert parse_rule(text) == rule, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies)
def test_policy_round_trip(policy):
    text = format_policy(policy)
    assert parse_policy(text) == policy, text
