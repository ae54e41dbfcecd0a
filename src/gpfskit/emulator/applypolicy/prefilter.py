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

import math
from collections.abc import Iterator, Sequence

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


def _terms(where: Expr, ctx: EvalContext) -> Iterator[Term]:
    """The comparisons among the top-level AND terms of ``where`` the lister can check."""
    if isinstance(where, Binary) and where.op == "AND":
        yield from _terms(where.left, ctx)
        yield from _terms(where.right, ctx)
    elif isinstance(where, Binary) and where.op in _FLIPPED:
        term = _comparison(where.left, where.op, where.right, ctx)
        if term is None:
            term = _comparison(where.right, _FLIPPED[where.op], where.left, ctx)
        if term is not None:
            yield term
    elif isinstance(where, Between) and not where.negated:
        for op, bound in ((">=", where.low), ("<=", where.high)):
            term = _comparison(where.operand, op, bound, ctx)
            if term is not None:
                yield term


def _comparison(left: Expr, op: str, right: Expr, ctx: EvalContext) -> Term | None:
    """``left op right`` as a term when ``left`` is a stat attribute and ``right`` a constant
    of the kind the evaluator compares it with (a number; a timestamp for the times)."""
    if not isinstance(left, Attribute) or left.name not in PREFILTER_ATTRIBUTES:
        return None
    if referenced_attributes(right) or any(
            isinstance(node, Function) and node.name in SIDE_EFFECT_FUNCTIONS
            for node in iter_subexpressions(right)):
        return None
    try:
        value = evaluate(right, {}, ctx)
    except (PolicyEvalError, ArithmeticError):
        return None  # left to the full evaluation, which reports it if a file gets there
    if left.name in TIMESTAMP_ATTRIBUTES:
        value = value.seconds if isinstance(value, SqlTimestamp) else None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        value = None
    elif isinstance(value, float) and abs(value) >= _EXACT:
        value = None  # the evaluators round the attribute there, the lister would not
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return (left.name, op, value)
