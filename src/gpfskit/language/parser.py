"""Recursive-descent parser for policy rules and their SQL expressions.

Expression precedence, loosest first::

    OR < AND < NOT < comparison (= <> != < > <= >=, [NOT] LIKE [ESCAPE], [NOT] IN,
    [NOT] BETWEEN, IS [NOT] NULL) < + - || < * / < unary - < primary

Comparisons do not chain (``a = b = c`` is a syntax error).  A minus sign directly in front of
a number is folded into a negative literal.

Rules are ``RULE ['name'] [WHEN expr] <verb> <clauses...>``.  The clauses after the verb may come
in any order; each may appear once, and only clauses that make sense for the verb are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping

from .ast import (
    COMPARISON_OPS,
    INTERVAL_UNITS,
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
from .catalog import ATTRIBUTES, FUNCTIONS, arity_ok
from .errors import PolicySyntaxError
from .lexer import LexError, Token, tokenize
from .macros import MacroError, expand_macros_with_origins

__all__ = ["ALLOWED_CLAUSES", "parse_expression", "parse_policy", "parse_rule"]

_RESERVED = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "LIKE",
        "IN",
        "BETWEEN",
        "IS",
        "NULL",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "INTERVAL",
        "ESCAPE",
        "TRUE",
        "FALSE",
        "CURRENT_TIMESTAMP",
        "CURRENT_DATE",
        "CURRENT_TIME",
    }
)
_UNIT_WORDS = {
    "DAY": "DAYS",
    "DAYS": "DAYS",
    "HOUR": "HOURS",
    "HOURS": "HOURS",
    "MINUTE": "MINUTES",
    "MINUTES": "MINUTES",
    "SECOND": "SECONDS",
    "SECONDS": "SECONDS",
}
assert set(_UNIT_WORDS.values()) == set(INTERVAL_UNITS)

# Clause names as used in ALLOWED_CLAUSES and error messages.
_WHEN, _FROM, _THRESHOLD, _WEIGHT, _TO = "WHEN", "FROM POOL", "THRESHOLD", "WEIGHT", "TO POOL"
_LIMIT, _REPLICATE, _FOR, _SHOW, _SIZE = "LIMIT", "REPLICATE", "FOR FILESET", "SHOW", "SIZE"
_ACTION, _WHERE, _DIRS, _EXEC, _OPTS = "ACTION", "WHERE", "DIRECTORIES_PLUS", "EXEC", "OPTS"
_ESCAPE, _COMPRESS, _EXCLUDE = "ESCAPE", "COMPRESS", "EXCLUDE"

#: Which clauses each rule kind accepts after its verb.
ALLOWED_CLAUSES: dict[RuleKind, frozenset[str]] = {
    RuleKind.SET_POOL: frozenset({_LIMIT, _REPLICATE, _FOR, _ACTION, _WHERE}),
    RuleKind.SET_SNAP_POOL: frozenset({_LIMIT, _REPLICATE, _FOR, _ACTION, _WHERE}),
    RuleKind.GROUP_POOL: frozenset(),
    RuleKind.MIGRATE: frozenset(
        {
            _WHEN,
            _COMPRESS,
            _FROM,
            _THRESHOLD,
            _WEIGHT,
            _TO,
            _LIMIT,
            _REPLICATE,
            _FOR,
            _SHOW,
            _SIZE,
            _ACTION,
            _WHERE,
        }
    ),
    RuleKind.DELETE: frozenset(
        {_WHEN, _DIRS, _FROM, _THRESHOLD, _WEIGHT, _FOR, _SHOW, _SIZE, _ACTION, _WHERE}
    ),
    RuleKind.EXCLUDE: frozenset({_WHEN, _DIRS, _FROM, _FOR, _WHERE}),
    RuleKind.LIST: frozenset(
        {
            _WHEN,
            _EXCLUDE,
            _DIRS,
            _COMPRESS,
            _FROM,
            _THRESHOLD,
            _WEIGHT,
            _FOR,
            _SHOW,
            _SIZE,
            _ACTION,
            _WHERE,
        }
    ),
    RuleKind.RESTORE: frozenset({_LIMIT, _REPLICATE, _FOR, _WHERE}),
    RuleKind.EXTERNAL_POOL: frozenset({_EXEC, _OPTS, _ESCAPE, _SIZE}),
    RuleKind.EXTERNAL_LIST: frozenset({_EXEC, _OPTS, _ESCAPE, _THRESHOLD, _SIZE}),
    RuleKind.ENCRYPTION: frozenset(),
    RuleKind.SET_ENCRYPTION: frozenset({_FOR, _WHERE}),
}

# First keyword of each clause -> clause name.
_CLAUSE_START = {
    "WHEN": _WHEN,
    "FROM": _FROM,
    "THRESHOLD": _THRESHOLD,
    "WEIGHT": _WEIGHT,
    "TO": _TO,
    "LIMIT": _LIMIT,
    "REPLICATE": _REPLICATE,
    "FOR": _FOR,
    "SHOW": _SHOW,
    "SIZE": _SIZE,
    "ACTION": _ACTION,
    "WHERE": _WHERE,
    "DIRECTORIES_PLUS": _DIRS,
    "EXEC": _EXEC,
    "OPTS": _OPTS,
    "ESCAPE": _ESCAPE,
    "COMPRESS": _COMPRESS,
    "EXCLUDE": _EXCLUDE,
}

_FIELD_OF_CLAUSE = {
    _WHEN: "when",
    _FROM: "from_pool",
    _THRESHOLD: "threshold",
    _WEIGHT: "weight",
    _TO: "to_pool",
    _LIMIT: "limit",
    _REPLICATE: "replicate",
    _FOR: "for_fileset",
    _SHOW: "show",
    _SIZE: "size",
    _ACTION: "action",
    _WHERE: "where",
    _DIRS: "directories_plus",
    _EXEC: "exec_",
    _OPTS: "opts",
    _ESCAPE: "escape",
    _COMPRESS: "compress",
    _EXCLUDE: "exclude",
}


def parse_policy(
    text: str,
    defines: Mapping[str, object] | None = None,
    *,
    expand_in_strings: bool = False,
) -> Policy:
    """Parse a whole policy file.

    Macros are expanded first (``defines`` are ``-M name=value`` definitions; see
    :mod:`.macros`).  Raises :class:`PolicySyntaxError` with a position in ``text``.
    """
    try:
        expanded, origins = expand_macros_with_origins(
            text, defines, expand_in_strings=expand_in_strings
        )
    except MacroError as exc:
        line, column = _line_col(text, exc.offset)
        raise PolicySyntaxError(exc.message, line, column, exc.offset) from None
    parser = _Parser(expanded, text, origins)
    rules = []
    while not parser.at_eof():
        rules.append(parser.rule())
    return Policy(tuple(rules))


def parse_rule(text: str) -> Rule:
    """Parse exactly one rule (no macro expansion)."""
    parser = _Parser(text, text, None)
    rule = parser.rule()
    parser.expect_eof()
    return rule


def parse_expression(text: str) -> Expr:
    """Parse a single SQL expression (no macro expansion)."""
    parser = _Parser(text, text, None)
    expr = parser.expr()
    parser.expect_eof()
    return expr


def _line_col(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class _Parser:
    def __init__(self, text: str, original: str, origins: list[int] | None) -> None:
        self.original = original
        self.origins = origins
        self.expanded_length = len(text)
        try:
            self.tokens = tokenize(text)
        except LexError as exc:
            raise self._error_at(exc.message, exc.pos) from None
        self.i = 0

    # -- token helpers --------------------------------------------------------------------

    def _error_at(self, message: str, pos: int) -> PolicySyntaxError:
        if self.origins is not None:
            if pos < len(self.origins):
                pos = self.origins[pos]
            else:
                pos = len(self.original)
        line, column = _line_col(self.original, pos)
        return PolicySyntaxError(message, line, column, pos)

    def error(self, message: str, token: Token | None = None) -> PolicySyntaxError:
        token = token or self.peek()
        return self._error_at(message, token.pos)

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def at_eof(self) -> bool:
        return self.peek().kind == "EOF"

    def expect_eof(self) -> None:
        if not self.at_eof():
            raise self.error(f"unexpected {self.peek().describe()}")

    def is_kw(self, *words: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "IDENT" and tok.upper in words

    def is_op(self, *ops: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "OP" and tok.value in ops

    def accept_kw(self, word: str) -> bool:
        if self.is_kw(word):
            self.i += 1
            return True
        return False

    def accept_op(self, op: str) -> bool:
        if self.is_op(op):
            self.i += 1
            return True
        return False

    def _context(self, after: str | None) -> str:
        return f" after '{after}'" if after else ""

    def expect_kw(self, word: str, after: str | None = None) -> Token:
        if not self.is_kw(word):
            tok = self.peek()
            raise self.error(f"expected '{word}'{self._context(after)}, found {tok.describe()}")
        return self.next()

    def expect_op(self, op: str, after: str | None = None) -> Token:
        if not self.is_op(op):
            tok = self.peek()
            raise self.error(f"expected '{op}'{self._context(after)}, found {tok.describe()}")
        return self.next()

    def expect_string(self, what: str, after: str | None = None) -> str:
        tok = self.peek()
        if tok.kind != "STRING":
            raise self.error(f"expected {what}{self._context(after)}, found {tok.describe()}")
        self.next()
        return tok.value  # type: ignore[return-value]

    def expect_number(self, what: str, after: str | None = None) -> int | float:
        tok = self.peek()
        if tok.kind != "NUMBER":
            raise self.error(f"expected {what}{self._context(after)}, found {tok.describe()}")
        self.next()
        return tok.value  # type: ignore[return-value]

    # -- rules ----------------------------------------------------------------------------

    def rule(self) -> Rule:
        self.expect_kw("RULE")
        fields: dict[str, object] = {}
        if self.peek().kind == "STRING":
            fields["name"] = self.next().value
        seen: set[str] = set()
        if self.is_kw("WHEN"):
            self.next()
            fields["when"] = self.expr()
            seen.add(_WHEN)
        verb_token = self.peek()
        kind = self.verb(fields)
        allowed = ALLOWED_CLAUSES[kind]
        if "when" in fields and _WHEN not in allowed:
            raise self.error(f"WHEN is not allowed in a {kind.value} rule", verb_token)
        while True:
            tok = self.peek()
            if tok.kind != "IDENT" or tok.upper == "RULE":
                break
            clause = _CLAUSE_START.get(tok.upper)
            if clause is None:
                break
            if clause not in allowed:
                raise self.error(f"{clause} is not allowed in a {kind.value} rule")
            if clause in seen:
                raise self.error(f"duplicate {clause} clause")
            seen.add(clause)
            self.next()
            fields[_FIELD_OF_CLAUSE[clause]] = self.clause(clause, kind, tok)
        tok = self.peek()
        if tok.kind != "EOF" and not self.is_kw("RULE"):
            raise self.error(
                f"expected a clause of the {kind.value} rule or 'RULE', found {tok.describe()}"
            )
        return Rule(kind=kind, **fields)  # type: ignore[arg-type]

    def verb(self, fields: dict[str, object]) -> RuleKind:
        tok = self.peek()
        word = tok.upper if tok.kind == "IDENT" else ""
        if word == "SET":
            self.next()
            if self.accept_kw("POOL"):
                fields["pool"] = self.expect_string("a pool name", "SET POOL")
                return RuleKind.SET_POOL
            if self.accept_kw("SNAP_POOL"):
                fields["pool"] = self.expect_string("a pool name", "SET SNAP_POOL")
                return RuleKind.SET_SNAP_POOL
            if self.accept_kw("ENCRYPTION"):
                specs = [self.expect_string("an encryption specification name", "SET ENCRYPTION")]
                while self.accept_op(","):
                    specs.append(self.expect_string("an encryption specification name", ","))
                fields["encryption_specs"] = tuple(specs)
                return RuleKind.SET_ENCRYPTION
            nxt = self.peek()
            raise self.error(
                f"expected 'POOL', 'SNAP_POOL' or 'ENCRYPTION' after 'SET', found {nxt.describe()}"
            )
        if word == "GROUP":
            self.next()
            self.expect_kw("POOL", "GROUP")
            if self.peek().kind == "STRING":
                fields["pool"] = self.next().value
            self.expect_kw("IS", "GROUP POOL")
            members = []
            after = "IS"
            while True:
                pool = self.expect_string("a pool name", after)
                limit = None
                if self.accept_kw("LIMIT"):
                    limit = self.paren_number("an occupancy percentage", "LIMIT")
                members.append((pool, limit))
                if not self.accept_kw("THEN"):
                    break
                after = "THEN"
            fields["group_members"] = tuple(members)
            return RuleKind.GROUP_POOL
        if word in ("MIGRATE", "DELETE", "EXCLUDE"):
            self.next()
            return RuleKind[word]
        if word == "LIST":
            self.next()
            fields["list_name"] = self.expect_string("a list name", "LIST")
            return RuleKind.LIST
        if word == "RESTORE":
            self.next()
            self.expect_kw("TO", "RESTORE")
            self.expect_kw("POOL", "TO")
            fields["to_pool"] = self.expect_string("a pool name", "TO POOL")
            return RuleKind.RESTORE
        if word == "EXTERNAL":
            self.next()
            if self.accept_kw("POOL"):
                fields["pool"] = self.expect_string("a pool name", "EXTERNAL POOL")
                return RuleKind.EXTERNAL_POOL
            if self.accept_kw("LIST"):
                fields["list_name"] = self.expect_string("a list name", "EXTERNAL LIST")
                return RuleKind.EXTERNAL_LIST
            nxt = self.peek()
            raise self.error(f"expected 'POOL' or 'LIST' after 'EXTERNAL', found {nxt.describe()}")
        if word == "ENCRYPTION":
            self.next()
            fields["encryption_specs"] = (
                self.expect_string("an encryption specification name", "ENCRYPTION"),
            )
            self.expect_kw("IS", "ENCRYPTION name")
            self.expect_kw("ALGO", "IS")
            fields["encryption_algo"] = self.expect_string("an algorithm string", "ALGO")
            self.expect_kw("KEYS", "ALGO")
            self.expect_op("(", "KEYS")
            keys = [self.expect_string("a key string", "KEYS(")]
            while self.accept_op(","):
                keys.append(self.expect_string("a key string", ","))
            self.expect_op(")", "the keys")
            fields["encryption_keys"] = tuple(keys)
            return RuleKind.ENCRYPTION
        raise self.error(
            "expected a rule verb (SET, MIGRATE, DELETE, LIST, EXCLUDE, EXTERNAL, GROUP, "
            f"RESTORE, ENCRYPTION), found {tok.describe()}"
        )

    def paren_number(self, what: str, after: str) -> int | float:
        self.expect_op("(", after)
        value = self.expect_number(what, f"{after}(")
        self.expect_op(")", f"{after}({value}")
        return value

    def clause(self, clause: str, kind: RuleKind, keyword: Token) -> object:
        if clause in (_WHEN, _WHERE):
            return self.expr()
        if clause == _FROM:
            self.expect_kw("POOL", "FROM")
            return self.expect_string("a pool name", "FROM POOL")
        if clause == _TO:
            self.expect_kw("POOL", "TO")
            return self.expect_string("a pool name", "TO POOL")
        if clause == _THRESHOLD:
            if self.peek().kind == "STRING":
                if kind is not RuleKind.EXTERNAL_LIST:
                    raise self.error("a THRESHOLD resource class is only allowed on EXTERNAL LIST")
                return self.next().value
            if kind is RuleKind.EXTERNAL_LIST:
                raise self.error(
                    f"expected a resource class string after 'THRESHOLD', "
                    f"found {self.peek().describe()}"
                )
            self.expect_op("(", "THRESHOLD")
            values = [self.expect_number("a percentage", "THRESHOLD(")]
            while self.accept_op(","):
                if len(values) == 3:
                    raise self.error("THRESHOLD takes at most three percentages")
                values.append(self.expect_number("a percentage", ","))
            self.expect_op(")", "the THRESHOLD percentages")
            return tuple(values)
        if clause in (_WEIGHT, _ACTION):
            self.expect_op("(", clause)
            expr = self.expr()
            self.expect_op(")", f"the {clause} expression")
            return expr
        if clause == _LIMIT:
            return self.paren_number("an occupancy percentage", "LIMIT")
        if clause == _REPLICATE:
            return self.paren_number("a replication factor", "REPLICATE")
        if clause == _FOR:
            self.expect_kw("FILESET", "FOR")
            if self.peek().kind == "STRING":
                return (self.next().value,)
            self.expect_op("(", "FOR FILESET")
            names = [self.expect_string("a fileset name", "FOR FILESET(")]
            while self.accept_op(","):
                names.append(self.expect_string("a fileset name", ","))
            self.expect_op(")", "the fileset names")
            return tuple(names)
        if clause == _SHOW:
            self.expect_op("(", "SHOW")
            items = [self.expr()]
            while not self.is_op(")"):
                if self.at_eof():
                    raise self.error("expected ')' to close SHOW, found end of input")
                self.accept_op(",")
                items.append(self.expr())
            self.next()
            return tuple(items)
        if clause == _SIZE:
            if self.is_op("("):
                self.next()
                expr = self.expr()
                self.expect_op(")", "the SIZE expression")
                return expr
            return Literal(self.expect_number("a size or '('", "SIZE"))
        if clause == _COMPRESS:
            self.expect_op("(", "COMPRESS")
            value = self.expect_string("a compression string", "COMPRESS(")
            self.expect_op(")", "the COMPRESS value")
            return value
        if clause in (_EXEC, _OPTS, _ESCAPE):
            return self.expect_string("a string", clause)
        if clause in (_DIRS, _EXCLUDE):
            return True
        raise AssertionError(clause)  # pragma: no cover

    # -- expressions ----------------------------------------------------------------------

    def expr(self) -> Expr:
        left = self.and_expr()
        while self.accept_kw("OR"):
            left = Binary("OR", left, self.and_expr())
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.accept_kw("AND"):
            left = Binary("AND", left, self.not_expr())
        return left

    def not_expr(self) -> Expr:
        if self.accept_kw("NOT"):
            return Unary("NOT", self.not_expr())
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.additive()
        tok = self.peek()
        if tok.kind == "OP" and (tok.value in COMPARISON_OPS or tok.value == "!="):
            self.next()
            return Binary(tok.value, left, self.additive())  # type: ignore[arg-type]
        negated = False
        if self.is_kw("NOT") and self.is_kw("LIKE", "IN", "BETWEEN", ahead=1):
            self.next()
            negated = True
        if self.accept_kw("LIKE"):
            pattern = self.additive()
            escape = self.additive() if self.accept_kw("ESCAPE") else None
            return Like(left, pattern, escape, negated)
        if self.accept_kw("IN"):
            self.expect_op("(", "IN")
            items = [self.expr()]
            while self.accept_op(","):
                items.append(self.expr())
            self.expect_op(")", "the IN list")
            return In(left, tuple(items), negated)
        if self.accept_kw("BETWEEN"):
            low = self.additive()
            self.expect_kw("AND", "BETWEEN ...")
            high = self.additive()
            return Between(left, low, high, negated)
        if self.accept_kw("IS"):
            is_not = self.accept_kw("NOT")
            self.expect_kw("NULL", "IS NOT" if is_not else "IS")
            return IsNull(left, is_not)
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.is_op("+", "-", "||"):
            op = self.next().value
            left = Binary(op, left, self.multiplicative())  # type: ignore[arg-type]
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.is_op("*", "/"):
            op = self.next().value
            left = Binary(op, left, self.unary())  # type: ignore[arg-type]
        return left

    def unary(self) -> Expr:
        if self.is_op("-"):
            self.next()
            if self.peek().kind == "NUMBER":
                return Literal(-self.next().value)  # type: ignore[operator]
            return Unary("-", self.unary())
        if self.accept_op("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> Expr:
        tok = self.peek()
        if tok.kind in ("NUMBER", "STRING"):
            self.next()
            return Literal(tok.value)  # type: ignore[arg-type]
        if tok.kind == "OP" and tok.value == "(":
            self.next()
            expr = self.expr()
            self.expect_op(")", "the parenthesised expression")
            return expr
        if tok.kind != "IDENT":
            raise self.error(f"expected an expression, found {tok.describe()}")
        word = tok.upper
        if word in _RESERVED:
            self.next()
            if word == "NULL":
                return Literal(None)
            if word == "TRUE":
                return Literal(True)
            if word == "FALSE":
                return Literal(False)
            if word == "CURRENT_TIMESTAMP":
                return CurrentTimestamp()
            if word == "CURRENT_DATE":
                return CurrentDate()
            if word == "CURRENT_TIME":
                return CurrentTime()
            if word == "CASE":
                return self.case()
            if word == "INTERVAL":
                value = self.unary_for_interval()
                unit_tok = self.peek()
                unit = _UNIT_WORDS.get(unit_tok.upper) if unit_tok.kind == "IDENT" else None
                if unit is None:
                    raise self.error(
                        "expected DAYS, HOURS, MINUTES or SECONDS after the INTERVAL value, "
                        f"found {unit_tok.describe()}"
                    )
                self.next()
                return Interval(value, unit)
            raise self.error(f"expected an expression, found {tok.describe()}", tok)
        self.next()
        if self.is_op("("):
            if word not in FUNCTIONS:
                raise self.error(f"unknown function '{tok.text}'", tok)
            self.next()
            args: list[Expr] = []
            if not self.is_op(")"):
                args.append(self.expr())
                while self.accept_op(","):
                    args.append(self.expr())
            self.expect_op(")", f"the arguments of {word}")
            if not arity_ok(word, len(args)):
                low, high = FUNCTIONS[word]
                expected = str(low) if low == high else f"{low} to {high}"
                raise self.error(f"{word} takes {expected} argument(s), got {len(args)}", tok)
            return Function(word, tuple(args))
        if word in FUNCTIONS and word not in ATTRIBUTES:
            raise self.error(f"expected '(' after function name '{tok.text}'")
        if word not in ATTRIBUTES:
            raise self.error(f"unknown attribute '{tok.text}'", tok)
        return Attribute(word)

    def unary_for_interval(self) -> Expr:
        """The value of ``INTERVAL value unit``: a primary (usually a string literal)."""
        if self.is_op("-") and self.peek(1).kind == "NUMBER":
            self.next()
            return Literal(-self.next().value)  # type: ignore[operator]
        return self.primary()

    def case(self) -> Expr:
        operand = None
        if not self.is_kw("WHEN"):
            operand = self.expr()
        whens = []
        self.expect_kw("WHEN", "CASE")
        while True:
            cond = self.expr()
            self.expect_kw("THEN", "the WHEN condition")
            whens.append((cond, self.expr()))
            if not self.accept_kw("WHEN"):
                break
        else_ = self.expr() if self.accept_kw("ELSE") else None
        self.expect_kw("END", "CASE ... ELSE" if else_ is not None else "CASE ... THEN")
        return Case(tuple(whens), else_, operand)
