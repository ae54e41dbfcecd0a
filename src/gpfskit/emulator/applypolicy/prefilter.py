"""The scan prefilter: the rules' simple conditions, checked in the lister.

Most of a scan's files match no rule. Rows for them cost memory writes in the lister and
array work in the evaluator for nothing, so ``mmapplypolicy`` hands the scan a prefilter:
for every rule that can select or exclude files, the comparisons of its WHERE clause that
the lister can check on the stat data it already has (``FILE_SIZE > 65536``,
``USER_ID = 1001``, ``MODIFICATION_TIME < CURRENT_TIMESTAMP - INTERVAL '180' DAYS``,
``x BETWEEN a AND b``), ANDed; the rules ORed. An entry no rule's comparisons admit makes no
row.

The prefilter is only ever weaker than the rules: a comparison is taken from a WHERE only
when it is one of its top-level AND terms, and a term it cannot express, or could not
compare exactly as the evaluators do, is left out (which admits more, never less). The rows
that pass are evaluated in full as before, so lists, per-rule counts and ``-L`` output do not
change. One thing does: a WHERE term that fails to evaluate (a type error) is reported only
when some file reaches it, so a file the prefilter turns away cannot trigger it (the
evaluator already skips the rest of a WHERE for batches with no candidate left).

There is no prefilter when a rule could select a file on conditions the lister cannot see
(no WHERE, or none of its terms expressible), or at ``-L 6``, which reports the files no
rule applies to.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any

from gpfskit.emulator.scan import (
    MAX_PREFILTER_CONJUNCTIONS,
    MAX_PREFILTER_TERMS,
    PREFILTER_ATTRIBUTES,
    Prefilter,
)
from gpfskit.language import (
    TIMESTAMP_ATTRIBUTES,
    Attribute,
    Between,
    Binary,
    EvalContext,
    Expr,
    Function,
    PolicyEvalError,
    Rule,
    SqlTimestamp,
    evaluate,
    referenced_attributes,
)
from gpfskit.language.ast import iter_subexpressions
from gpfskit.language.catalog import SIDE_EFFECT_FUNCTIONS
from gpfskit.language.timeutil import EPOCH_ORDINAL, OffsetTable, offset_table

Term = tuple[str, str, int | float]

#: ``constant op attribute`` read as ``attribute FLIPPED[op] constant``.
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_EXACT = 2**53  # integer attributes meet float constants exactly only below this


def build(rules: Sequence[Rule], ctx: EvalContext, *, level: int) -> Prefilter | None:
    """The prefilter for the rules that take part in the scan, or None for none.

    ``rules`` are the active rules (WHEN true, THRESHOLD reached): an empty list gives
    ``[]``, no rows at all.
    """
    if level >= 6:
        return None
    conjunctions: list[list[Term]] = []
    for rule in rules:
        terms = list(_terms(rule.where, ctx)) if rule.where is not None else []
        if not terms:
            return None
        conjunctions.append(terms)
    if (len(conjunctions) > MAX_PREFILTER_CONJUNCTIONS
            or sum(map(len, conjunctions)) > MAX_PREFILTER_TERMS):
        return None
    return conjunctions


def settles(where: Expr | None, ctx: EvalContext) -> bool:
    """Whether the lister's comparisons decide ``where`` exactly: it is an AND of terms that
    all become prefilter comparisons (the attributes they read are never NULL for a file)."""
    return where is not None and all(_node_terms(node, ctx)[1] for node in _conjuncts(where))


def _terms(where: Expr, ctx: EvalContext) -> Iterator[Term]:
    """The comparisons among the top-level AND terms of ``where`` the lister can check."""
    for node in _conjuncts(where):
        yield from _node_terms(node, ctx)[0]


def _conjuncts(where: Expr) -> Iterator[Expr]:
    if isinstance(where, Binary) and where.op == "AND":
        yield from _conjuncts(where.left)
        yield from _conjuncts(where.right)
    else:
        yield where


def _node_terms(node: Expr, ctx: EvalContext) -> tuple[list[Term], bool]:
    """The lister comparisons one AND term implies, and whether they are all of it."""
    if isinstance(node, Binary) and node.op in _FLIPPED:
        term = _comparison(node.left, node.op, node.right, ctx)
        if term is None:
            term = _comparison(node.right, _FLIPPED[node.op], node.left, ctx)
        if term is not None:
            return [term], True
        days = _days_terms(node.left, node.op, node.right, ctx) \
            or _days_terms(node.right, _FLIPPED[node.op], node.left, ctx)
        return (days, True) if days else ([], False)
    if isinstance(node, Between) and not node.negated:
        terms = [_comparison(node.operand, op, bound, ctx)
                 for op, bound in ((">=", node.low), ("<=", node.high))]
        return [t for t in terms if t is not None], None not in terms
    return [], False


def _comparison(left: Expr, op: str, right: Expr, ctx: EvalContext) -> Term | None:
    """``left op right`` as a term when ``left`` is a stat attribute and ``right`` a constant
    of the kind the evaluator compares it with (a number; a timestamp for the times)."""
    if not isinstance(left, Attribute) or left.name not in PREFILTER_ATTRIBUTES:
        return None
    value = _constant(right, ctx)
    if left.name in TIMESTAMP_ATTRIBUTES:
        value = value.seconds if isinstance(value, SqlTimestamp) else None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        value = None
    elif isinstance(value, float) and abs(value) >= _EXACT:
        value = None  # the evaluators round the attribute there, the lister would not
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return (left.name, op, value)


# DAYS(attribute) comparisons ------------------------------------------------------------------

def _days_terms(left: Expr, op: str, right: Expr, ctx: EvalContext) -> list[Term] | None:
    """``sign * DAYS(time attribute) + offset op constant`` as comparisons of the attribute
    with the instants local days begin (``DAYS(MODIFICATION_TIME) < DAYS(CURRENT_TIMESTAMP)
    - 180``, ``DAYS(CURRENT_TIMESTAMP) - DAYS(MODIFICATION_TIME) > 180``), when that is
    exact: in a zone whose local day never steps back (a DST change across midnight) and
    away from the powers of two where adding the UTC offset to a time can round."""
    linear = _days_linear(left, ctx)
    constant = _constant_number(right, ctx)
    if linear is None or constant is None:
        return None
    attribute, sign, offset = linear
    bound = constant - offset
    if sign < 0:
        op, bound = _FLIPPED[op], -bound
    # DAYS(t) op bound, with DAYS an integer
    if op == "<":
        return _day_bound(attribute, "<", math.ceil(bound))
    if op == "<=":
        return _day_bound(attribute, "<", math.floor(bound) + 1)
    if op == ">":
        return _day_bound(attribute, ">=", math.floor(bound) + 1)
    if op == ">=":
        return _day_bound(attribute, ">=", math.ceil(bound))
    if op == "=" and bound == int(bound):
        low = _day_bound(attribute, ">=", int(bound))
        high = _day_bound(attribute, "<", int(bound) + 1)
        return low + high if low and high else None
    return None


def _days_linear(expr: Expr, ctx: EvalContext) -> tuple[str, int, float] | None:
    """``expr`` as (attribute, sign, offset) meaning ``sign * DAYS(attribute) + offset``."""
    if isinstance(expr, Function) and expr.name == "DAYS" and len(expr.args) == 1:
        arg = expr.args[0]
        if isinstance(arg, Attribute) and arg.name in TIMESTAMP_ATTRIBUTES \
                and arg.name in PREFILTER_ATTRIBUTES:
            return arg.name, 1, 0
        return None
    if not isinstance(expr, Binary) or expr.op not in ("+", "-"):
        return None
    left, right = _days_linear(expr.left, ctx), _days_linear(expr.right, ctx)
    if left is not None and right is None:
        number = _constant_number(expr.right, ctx)
        if number is None:
            return None
        attribute, sign, offset = left
        return attribute, sign, offset + number if expr.op == "+" else offset - number
    if right is not None and left is None:
        number = _constant_number(expr.left, ctx)
        if number is None:
            return None
        attribute, sign, offset = right
        return (attribute, sign, number + offset) if expr.op == "+" else \
            (attribute, -sign, number - offset)
    return None


def _constant(expr: Expr, ctx: EvalContext) -> Any:
    """The value of an expression that reads no file and has no side effect, else None
    (also when it fails: the full evaluation reports that if a file gets there)."""
    if referenced_attributes(expr) or any(
            isinstance(node, Function) and node.name in SIDE_EFFECT_FUNCTIONS
            for node in iter_subexpressions(expr)):
        return None
    try:
        return evaluate(expr, {}, ctx)
    except (PolicyEvalError, ArithmeticError):
        return None


def _constant_number(expr: Expr, ctx: EvalContext) -> int | float | None:
    value = _constant(expr, ctx)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) and abs(value) < _EXACT else None


def _day_bound(attribute: str, op: str, days: int) -> list[Term] | None:
    """``DAYS(attribute) < days`` as ``attribute < T`` (or ``>=`` as ``>= T``), T the
    instant local day ``days`` begins; None where that is not exact."""
    start = _day_start(days - EPOCH_ORDINAL)
    return None if start is None else [(attribute, op, start)]


def _day_start(day: int) -> float | None:
    """The first instant of local day ``day`` (days since 1970-01-01): the least t with
    floor(t + offset(t)) >= day * 86400, as the evaluators compute DAYS()."""
    table = offset_table()
    if not _days_never_step_back(table):
        return None
    local = day * 86400
    if abs(local) >= 2**52:
        return None
    bounds = [-math.inf, *table.times, math.inf]
    for k, offset in enumerate(table.offsets):
        begin, end = bounds[k], bounds[k + 1]
        start = max(begin, local - offset)
        if start < end:
            # near a power of two, t + offset may round up to the next day
            if any(abs(start - 2.0**e) <= 2 * 86400 or abs(local - 2.0**e) <= 2 * 86400
                   for e in range(20, 53)):
                return None
            return float(start)
    return None


@functools.cache
def _never_step_back(times: tuple[int, ...], offsets: tuple[int, ...]) -> bool:
    for k, at in enumerate(times):
        before, after = offsets[k], offsets[k + 1]
        if after < before and (at + after) // 86400 < (at + before - 1) // 86400:
            return False
    return True


def _days_never_step_back(table: OffsetTable) -> bool:
    """Whether the local day number never decreases as time goes on in this zone."""
    return _never_step_back(tuple(table.times), tuple(table.offsets))
