"""The ILM policy language: parsing, printing and evaluating policy rules.

Shared by the emulator's ``mmapplypolicy`` / ``mmchpolicy`` and by the Python rule objects
(``gpfskit.policy``).

* :func:`parse_policy` / :func:`parse_expression` turn text into the frozen syntax tree of
  :mod:`.ast` (macros are expanded first, see :mod:`.macros`);
* :func:`format_policy` / :func:`format_rule` / :func:`format_expression` print it back;
* :func:`evaluate`, :func:`matches`, :func:`rule_matches`, :func:`show_text` evaluate one record
  (a mapping of upper-case attribute names, see :mod:`.evaluate` for the data model);
* :mod:`.vectorized` (``evaluate_mask``, ``evaluate_column``, ``rule_mask``,
  ``show_column``) does the same over Arrow record batches. It is the only module that needs
  NumPy and pyarrow, so nothing here imports it: a scan does, when it needs it.

This package sits below both the emulator and ``gpfskit.policy`` and imports neither.
"""

from .ast import (
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
from .catalog import ATTRIBUTES, FUNCTIONS, TIMESTAMP_ATTRIBUTES, XATTRS_KEY
from .errors import PolicyEvalError, PolicySyntaxError
from .evaluate import (
    EvalContext,
    compile_expression,
    evaluate,
    matches,
    referenced_attributes,
    rule_matches,
    show_expression,
    show_text,
)
from .macros import expand_macros
from .parser import parse_expression, parse_policy, parse_rule
from .printer import format_expression, format_policy, format_rule, quote
from .values import SqlInterval, SqlTimestamp

__all__ = [
    "ATTRIBUTES",
    "FUNCTIONS",
    "TIMESTAMP_ATTRIBUTES",
    "XATTRS_KEY",
    "Attribute",
    "Between",
    "Binary",
    "Case",
    "CurrentDate",
    "CurrentTime",
    "CurrentTimestamp",
    "EvalContext",
    "Expr",
    "Function",
    "In",
    "Interval",
    "IsNull",
    "Like",
    "Literal",
    "Policy",
    "PolicyEvalError",
    "PolicySyntaxError",
    "Rule",
    "RuleKind",
    "SqlInterval",
    "SqlTimestamp",
    "Unary",
    "compile_expression",
    "evaluate",
    "expand_macros",
    "format_expression",
    "format_policy",
    "format_rule",
    "matches",
    "parse_expression",
    "parse_policy",
    "parse_rule",
    "quote",
    "referenced_attributes",
    "rule_matches",
    "show_expression",
    "show_text",
]
