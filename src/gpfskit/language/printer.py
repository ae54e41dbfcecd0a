"""Canonical policy text from syntax trees.

The output re-parses to an equal tree (``parse_policy(format_policy(p)) == p``): parentheses
are added exactly where precedence or left-associativity requires them, strings are re-quoted
with ``''`` and keywords are upper-case.  One rule per line.
"""

from __future__ import annotations

from .ast import (
    COMPARISON_OPS,
    Attribute,
    Between,
    Binary,
    Case,
    CurrentDate,
    CurrentTime,
    CurrentTimestamp,
    Expr,
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

__all__ = ["format_expression", "format_policy", "format_rule", "quote"]

# Binding strength of each level; a higher number binds tighter.
_OR, _AND, _NOT, _PRED, _ADD, _MUL, _UNARY, _PRIMARY = range(1, 9)
_BINARY_LEVEL = {"OR": _OR, "AND": _AND, "+": _ADD, "-": _ADD, "||": _ADD, "*": _MUL, "/": _MUL}


def quote(text: str) -> str:
    """Quote ``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _number(value: int | float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def format_expression(expr: Expr) -> str:
    """Return the canonical text of an expression."""
    return _fmt(expr)[0]


def _wrap(expr: Expr, min_level: int) -> str:
    text, level = _fmt(expr)
    return f"({text})" if level < min_level else text


def _fmt(expr: Expr) -> tuple[str, int]:
    if isinstance(expr, Literal):
        value = expr.value
        if value is None:
            return "NULL", _PRIMARY
        if isinstance(value, bool):
            return ("TRUE" if value else "FALSE"), _PRIMARY
        if isinstance(value, str):
            return quote(value), _PRIMARY
        text = _number(value)
        return text, (_UNARY if text.startswith("-") else _PRIMARY)
    if isinstance(expr, Attribute):
        return expr.name, _PRIMARY
    if isinstance(expr, CurrentTimestamp):
        return "CURRENT_TIMESTAMP", _PRIMARY
    if isinstance(expr, CurrentDate):
        return "CURRENT_DATE", _PRIMARY
    if isinstance(expr, CurrentTime):
        return "CURRENT_TIME", _PRIMARY
    if isinstance(expr, Function):
        return f"{expr.name}({', '.join(_fmt(a)[0] for a in expr.args)})", _PRIMARY
    if isinstance(expr, Binary):
        if expr.op in COMPARISON_OPS:
            return f"{_wrap(expr.left, _ADD)} {expr.op} {_wrap(expr.right, _ADD)}", _PRED
        level = _BINARY_LEVEL[expr.op]
        left = _wrap(expr.left, level)
        right = _wrap(expr.right, level + 1)
        return f"{left} {expr.op} {right}", level
    if isinstance(expr, Unary):
        if expr.op == "NOT":
            return f"NOT {_wrap(expr.operand, _NOT)}", _NOT
        operand = expr.operand
        text = _wrap(operand, _UNARY)
        numeric_literal = (
            isinstance(operand, Literal)
            and isinstance(operand.value, (int, float))
            and not isinstance(operand.value, bool)
        )
        if numeric_literal or text.startswith("-"):
            # "-5" would read back as a negative literal, "--x" is fine but unclear.
            text = f"({_fmt(operand)[0]})"
        return f"-{text}", _UNARY
    if isinstance(expr, Like):
        text = f"{_wrap(expr.operand, _ADD)} {'NOT ' if expr.negated else ''}LIKE "
        text += _wrap(expr.pattern, _ADD)
        if expr.escape is not None:
            text += f" ESCAPE {_wrap(expr.escape, _ADD)}"
        return text, _PRED
    if isinstance(expr, In):
        items = ", ".join(_fmt(i)[0] for i in expr.items)
        return f"{_wrap(expr.operand, _ADD)} {'NOT ' if expr.negated else ''}IN ({items})", _PRED
    if isinstance(expr, Between):
        text = f"{_wrap(expr.operand, _ADD)} {'NOT ' if expr.negated else ''}BETWEEN "
        text += f"{_wrap(expr.low, _ADD)} AND {_wrap(expr.high, _ADD)}"
        return text, _PRED
    if isinstance(expr, IsNull):
        return f"{_wrap(expr.operand, _ADD)} IS {'NOT ' if expr.negated else ''}NULL", _PRED
    if isinstance(expr, Case):
        parts = ["CASE"]
        if expr.operand is not None:
            parts.append(_fmt(expr.operand)[0])
        for cond, result in expr.whens:
            parts.append(f"WHEN {_fmt(cond)[0]} THEN {_fmt(result)[0]}")
        if expr.else_ is not None:
            parts.append(f"ELSE {_fmt(expr.else_)[0]}")
        parts.append("END")
        return " ".join(parts), _PRIMARY
    if isinstance(expr, Interval):
        return f"INTERVAL {_wrap(expr.value, _PRIMARY)} {expr.unit}", _PRIMARY
    raise TypeError(f"not an expression: {expr!r}")


def _show(items: tuple[Expr, ...]) -> str:
    """SHOW items are juxtaposed; parenthesise where juxtaposition would be misread."""
    texts = []
    for index, item in enumerate(items):
        text, level = _fmt(item)
        if index > 0 and level < _PRIMARY:
            text = f"({text})"
        texts.append(text)
        # "NAME (x)" would read as a call of NAME: parenthesise NAME, which may in turn
        # follow another NAME.
        at = len(texts) - 1
        while at > 0 and texts[at].startswith("(") and _ends_in_word(texts[at - 1]):
            texts[at - 1] = f"({texts[at - 1]})"
            at -= 1
    return " ".join(texts)


def _ends_in_word(text: str) -> bool:
    return text[-1].isalnum() or text[-1] == "_"


def _strings(values: tuple[str, ...]) -> str:
    return ", ".join(quote(v) for v in values)


_EXTERNAL = (RuleKind.EXTERNAL_POOL, RuleKind.EXTERNAL_LIST)


def format_rule(rule: Rule) -> str:
    """Return one rule as a single line of canonical policy text."""
    parts = ["RULE"]
    if rule.name is not None:
        parts.append(quote(rule.name))
    if rule.when is not None:
        parts.append(f"WHEN {format_expression(rule.when)}")
    kind = rule.kind
    if kind in (RuleKind.SET_POOL, RuleKind.SET_SNAP_POOL):
        parts.append(f"{kind.value} {quote(rule.pool or '')}")
    elif kind is RuleKind.SET_ENCRYPTION:
        parts.append(f"SET ENCRYPTION {_strings(rule.encryption_specs)}")
    elif kind is RuleKind.ENCRYPTION:
        spec = rule.encryption_specs[0] if rule.encryption_specs else ""
        parts.append(
            f"ENCRYPTION {quote(spec)} IS ALGO {quote(rule.encryption_algo or '')} "
            f"KEYS({_strings(rule.encryption_keys)})"
        )
    elif kind is RuleKind.GROUP_POOL:
        text = "GROUP POOL"
        if rule.pool is not None:
            text += f" {quote(rule.pool)}"
        members = []
        for pool, limit in rule.group_members:
            member = quote(pool)
            if limit is not None:
                member += f" LIMIT({_number(limit)})"
            members.append(member)
        parts.append(f"{text} IS {' THEN '.join(members)}")
    elif kind is RuleKind.LIST:
        parts.append(f"LIST {quote(rule.list_name or '')}")
    elif kind is RuleKind.RESTORE:
        parts.append(f"RESTORE TO POOL {quote(rule.to_pool or '')}")
    elif kind is RuleKind.EXTERNAL_POOL:
        parts.append(f"EXTERNAL POOL {quote(rule.pool or '')}")
    elif kind is RuleKind.EXTERNAL_LIST:
        parts.append(f"EXTERNAL LIST {quote(rule.list_name or '')}")
    else:
        parts.append(kind.value)
    parts.extend(_clauses(rule))
    return " ".join(parts)


def _clauses(rule: Rule) -> list[str]:
    out: list[str] = []
    if rule.kind in _EXTERNAL:
        if rule.exec_ is not None:
            out.append(f"EXEC {quote(rule.exec_)}")
        if rule.opts is not None:
            out.append(f"OPTS {quote(rule.opts)}")
        if rule.escape is not None:
            out.append(f"ESCAPE {quote(rule.escape)}")
    if rule.exclude:
        out.append("EXCLUDE")
    if rule.directories_plus:
        out.append("DIRECTORIES_PLUS")
    if rule.compress is not None:
        out.append(f"COMPRESS({quote(rule.compress)})")
    if rule.from_pool is not None:
        out.append(f"FROM POOL {quote(rule.from_pool)}")
    if isinstance(rule.threshold, str):
        out.append(f"THRESHOLD {quote(rule.threshold)}")
    elif rule.threshold is not None:
        out.append(f"THRESHOLD({', '.join(_number(v) for v in rule.threshold)})")
    if rule.weight is not None:
        out.append(f"WEIGHT({format_expression(rule.weight)})")
    if rule.to_pool is not None and rule.kind is not RuleKind.RESTORE:
        out.append(f"TO POOL {quote(rule.to_pool)}")
    if rule.limit is not None:
        out.append(f"LIMIT({_number(rule.limit)})")
    if rule.replicate is not None:
        out.append(f"REPLICATE({_number(rule.replicate)})")
    if rule.for_fileset is not None:
        out.append(f"FOR FILESET({_strings(rule.for_fileset)})")
    if rule.show is not None:
        out.append(f"SHOW({_show(rule.show)})")
    if rule.size is not None:
        size = rule.size
        plain_number = (
            isinstance(size, Literal)
            and isinstance(size.value, (int, float))
            and not isinstance(size.value, bool)
            and not _number(size.value).startswith("-")
        )
        if rule.kind in _EXTERNAL and plain_number:
            out.append(f"SIZE {_number(size.value)}")  # type: ignore[union-attr]
        else:
            out.append(f"SIZE({format_expression(size)})")
    if rule.action is not None:
        out.append(f"ACTION({format_expression(rule.action)})")
    if rule.kind not in _EXTERNAL:
        if rule.exec_ is not None:
            out.append(f"EXEC {quote(rule.exec_)}")
        if rule.opts is not None:
            out.append(f"OPTS {quote(rule.opts)}")
        if rule.escape is not None:
            out.append(f"ESCAPE {quote(rule.escape)}")
    if rule.where is not None:
        out.append(f"WHERE {format_expression(rule.where)}")
    return out


def format_policy(policy: Policy | tuple[Rule, ...] | list[Rule]) -> str:
    """Return the policy as text, one rule per line (ending with a newline)."""
    rules = policy.rules if isinstance(policy, Policy) else tuple(policy)
    return "".join(format_rule(rule) + "\n" for rule in rules)
