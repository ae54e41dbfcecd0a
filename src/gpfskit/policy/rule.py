"""Policy rules as Python objects that print themselves as policy text.

Each rule keeps its clauses as values of the policy language's syntax tree
(:class:`gpfskit.language.Rule`), so the text it prints is the language printer's
canonical form, which the parser reads back to the same tree. Options use friendly names::

    SetPoolRule(target='sas1', fileset='projects', limit=90, replicate=2)
    MigrateRule(source='system', target='sata1', threshold=(80, 60), weight='KB_ALLOCATED')
    DeleteRule()
    ListRule('big', exclude=False, directories_plus=False)
    ExcludeRule(name='skip-snapshots')
    ExternalListRule('tosync', script='/usr/local/bin/sync-list', opts='-v')
    ExternalPoolRule('hsm', script='/usr/hsm/bin/hsmControl', opts='-server=hsm1')
    RawRule("RULE 'grp' GROUP POOL 'gp' IS 'system' LIMIT(80) THEN 'sas1'")

``name=`` is optional: an unnamed rule gets a random ``id`` (for the rules collection) that
is not written into the policy text. ``rule.criteria.new(Criteria or SQL)`` adds WHERE
conditions (ANDed); ``rule.change(**options)`` changes options; rules that have a SHOW clause
offer ``show_attributes(...)`` and ``show_performance()``.

Option names (where the rule kind has the clause): ``source`` (FROM POOL), ``target`` (TO POOL,
or the pool of SET POOL), ``threshold`` ((high, low[, premigrate]) or, on EXTERNAL LIST, the
resource class), ``weight`` (SQL), ``limit``, ``replicate``, ``fileset`` (one name or several:
FOR FILESET), ``show`` (SQL text, or a list of attribute names), ``size``, ``action``, ``when``,
``directories_plus``, ``exclude``, ``compress``, ``listname``, ``poolname``, ``script`` (EXEC),
``opts`` and ``escape``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from gpfskit.language import (
    Attribute,
    Binary,
    Expr,
    Function,
    Literal,
    PolicySyntaxError,
    RuleKind,
    format_expression,
    format_rule,
    parse_expression,
    parse_rule,
)
from gpfskit.language import Rule as SyntaxRule
from gpfskit.policy import attributes
from gpfskit.policy.criteria import Criteria, CriteriaList


def random_id() -> str:
    """An id for an unnamed rule."""
    return "rule-" + secrets.token_hex(6)


# -- option converters (friendly value -> syntax-tree value) -------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return value


def _percentages(value: Any) -> tuple[int | float, ...]:
    values = (value,) if isinstance(value, (int, float)) else tuple(value)
    if not 1 <= len(values) <= 3:
        raise ValueError("a threshold is (high[, low[, premigrate]]) percentages")
    for number in values:
        if not 0 <= _number(number) <= 100:
            raise ValueError(f"threshold percentages are 0..100, got {number!r}")
    return values


def _filesets(value: Any) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names:
        raise ValueError("FOR FILESET needs at least one fileset name")
    return tuple(_text(name) for name in names)


def expression(value: Any) -> Expr:
    """An SQL expression from text, a Criteria, a number or a syntax-tree node."""
    if isinstance(value, Criteria):
        return value.expr
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, (int, float)):
        return Literal(value)
    if isinstance(value, str):
        try:
            return parse_expression(value)
        except PolicySyntaxError as exc:
            raise ValueError(f"invalid SQL expression {value!r}: {exc}") from None
    raise TypeError(f"expected an SQL expression, got {value!r}")


def show_items(text: str) -> tuple[Expr, ...]:
    """The items of a SHOW clause written as text (``'a=' VARCHAR(x) ...`` or one expr)."""
    try:
        rule = parse_rule(f"RULE LIST 'x' SHOW({text})")
    except PolicySyntaxError as exc:
        raise ValueError(f"invalid SHOW text {text!r}: {exc}") from None
    return rule.show or ()


_TEXT_FUNCTIONS = frozenset({"VARCHAR", "CHAR", "CONCAT", "LOWER", "UPPER", "SUBSTR",
                             "SUBSTRING", "HEX", "REGEXREPLACE"})


def _flatten(items: Iterable[Expr]) -> Iterable[Expr]:
    for item in items:
        if isinstance(item, Binary) and item.op == "||":
            yield from _flatten((item.left, item.right))
        else:
            yield item


def concat(items: Iterable[Expr]) -> Expr:
    """One expression concatenating the text of several (each converted with VARCHAR)."""
    result: Expr | None = None
    for item in _flatten(items):
        is_text = (isinstance(item, Literal) and isinstance(item.value, str)) or (
            isinstance(item, Function) and item.name in _TEXT_FUNCTIONS)
        text = item if is_text else Function("VARCHAR", (item,))
        result = text if result is None else Binary("||", result, text)
    if result is None:
        raise ValueError("nothing to concatenate")
    return result


def show_attribute_names(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical attribute names (friendly names accepted), without duplicates."""
    out: list[str] = []
    for name in names:
        canonical = attributes.canonical(name)
        if canonical is None or canonical == "SNAPID":
            raise ValueError(f"unknown file attribute {name!r}")
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def key_value_show(names: Iterable[str]) -> tuple[Expr, ...]:
    """SHOW items printing ``NAME=value`` pairs separated by spaces."""
    items: list[Expr] = []
    for index, name in enumerate(show_attribute_names(names)):
        items.append(Literal(("" if index == 0 else " ") + name + "="))
        items.append(Attribute(name))
    return (concat(items),) if items else ()


def _show(value: Any) -> tuple[Expr, ...]:
    if isinstance(value, str):
        return show_items(value)
    if isinstance(value, Expr):
        return (value,)
    return key_value_show(value)


def _bool(value: Any) -> bool:
    return bool(value)


Converter = Callable[[Any], Any]

#: Friendly option name -> (syntax-tree field, converter), for every option any rule has.
_OPTION_FIELDS: dict[str, tuple[str, Converter]] = {
    "source": ("from_pool", _text),
    "threshold": ("threshold", _percentages),
    "weight": ("weight", expression),
    "limit": ("limit", _number),
    "replicate": ("replicate", _number),
    "fileset": ("for_fileset", _filesets),
    "show": ("show", _show),
    "size": ("size", expression),
    "action": ("action", expression),
    "when": ("when", expression),
    "directories_plus": ("directories_plus", _bool),
    "exclude": ("exclude", _bool),
    "compress": ("compress", _text),
    "listname": ("list_name", _text),
    "poolname": ("pool", _text),
    "script": ("exec_", _text),
    "opts": ("opts", _text),
    "escape": ("escape", _text),
}

_DEFAULTS = {name: SyntaxRule.__dataclass_fields__[name].default
             for name in SyntaxRule.__dataclass_fields__ if name != "kind"}


def _friendly(field: str, value: Any) -> Any:
    """A syntax-tree field value as rule options show it."""
    if isinstance(value, Expr):
        return format_expression(value)
    if field == "show" and value is not None:
        return " ".join(format_expression(v) for v in value)
    if field == "for_fileset" and value is not None:
        return list(value)
    return value


class Rule:
    """Base of all rules (see the module docstring)."""

    kind: ClassVar[RuleKind | None] = None
    #: The options this kind of rule takes.
    options: ClassVar[tuple[str, ...]] = ()
    #: Option -> field where a kind stores it differently from ``_OPTION_FIELDS``.
    fields: ClassVar[dict[str, tuple[str, Converter]]] = {}

    def __init__(self, name: str | None = None, criteria: Any = None, **options: Any) -> None:
        self.name = None if name is None else _text(name)
        self.id = self.name if self.name is not None else random_id()
        self.criteria = CriteriaList(criteria)
        self._fields: dict[str, Any] = {}
        self._options: dict[str, Any] = {}
        self.change(**options)

    # -- options ----------------------------------------------------------------------------
    def _field(self, option: str) -> tuple[str, Converter]:
        if option not in self.options:
            raise TypeError(f"{type(self).__name__} has no option {option!r} "
                            f"(options: {', '.join(self.options) or 'none'})")
        return self.fields.get(option) or _OPTION_FIELDS[option]

    def change(self, **options: Any) -> Rule:
        """Change options (``None`` removes one); returns the rule."""
        for option, value in options.items():
            if option == "name":
                self.name = None if value is None else _text(value)
                self.id = self.name if self.name is not None else self.id
                continue
            if option == "criteria":
                self.criteria = CriteriaList(value)
                continue
            field, convert = self._field(option)
            if value is None or (value is False and field in ("exclude", "directories_plus")):
                self._fields.pop(field, None)
                self._options.pop(option, None)
            else:
                self._fields[field] = convert(value)
                self._options[option] = value
        return self

    def __getattr__(self, option: str) -> Any:
        if option.startswith("_") or option not in type(self).options:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {option!r}")
        if option in self._options:
            return self._options[option]
        field = (self.fields.get(option) or _OPTION_FIELDS[option])[0]
        value = self._fields.get(field, _DEFAULTS.get(field))
        return _friendly(field, value)

    # -- policy text ------------------------------------------------------------------------
    def _check(self) -> None:
        """Raise ValueError when the rule lacks something its kind needs."""

    def to_ast(self) -> SyntaxRule:
        """The rule as a syntax-tree node."""
        self._check()
        assert self.kind is not None
        return SyntaxRule(kind=self.kind, name=self.name, where=self.criteria.expression(),
                          **self._fields)

    def policy_rules(self) -> list[SyntaxRule]:
        """The policy rules this object stands for (processing rules stand for two)."""
        return [self.to_ast()]

    def __str__(self) -> str:
        return "\n".join(format_rule(rule) for rule in self.policy_rules())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}: {self}>"

    # -- from policy text ---------------------------------------------------------------------
    @staticmethod
    def from_ast(node: SyntaxRule) -> Rule:
        """The rule object for a parsed rule (RawRule for kinds without a class)."""
        cls = _CLASSES.get(node.kind)
        if cls is None:
            return RawRule(node)
        rule = cls.__new__(cls)
        Rule._adopt(rule, node)
        return rule

    @staticmethod
    def from_text(text: str) -> Rule:
        """The rule object for one rule of policy text."""
        try:
            return Rule.from_ast(parse_rule(text))
        except PolicySyntaxError as exc:
            raise ValueError(f"invalid rule {text!r}: {exc}") from None

    def _adopt(self, node: SyntaxRule) -> None:
        self.name = node.name
        self.id = node.name if node.name is not None else random_id()
        self.criteria = CriteriaList(node.where)
        self._fields = {}
        self._options = {}
        for field, default in _DEFAULTS.items():
            if field in ("name", "where"):
                continue
            value = getattr(node, field)
            if value != default:
                self._fields[field] = value


class SetPoolRule(Rule):
    """``RULE ['name'] SET POOL 'target' [LIMIT] [REPLICATE] [FOR FILESET] [WHERE]``."""

    kind = RuleKind.SET_POOL
    options = ("target", "fileset", "limit", "replicate", "action")
    fields = {"target": ("pool", _text)}

    def __init__(self, target: str | None = None, fileset: Any = None, limit: Any = None,
                 replicate: Any = None, name: str | None = None, criteria: Any = None,
                 **options: Any) -> None:
        super().__init__(name, criteria, target=target, fileset=fileset, limit=limit,
                         replicate=replicate, **options)

    def _check(self) -> None:
        if not self._fields.get("pool"):
            raise ValueError("a SetPoolRule needs a target pool")

    @property
    def is_default(self) -> bool:
        """True for an unconditional placement rule (no WHERE, no FOR FILESET)."""
        return not self.criteria and "for_fileset" not in self._fields


class _SelectingRule(Rule):
    """Rules that select files during a policy scan (they can SHOW attributes)."""

    def show_attributes(self, *names: str) -> _SelectingRule:
        """SHOW just these attributes (as ``NAME=value`` pairs)."""
        if len(names) == 1 and not isinstance(names[0], str):
            names = tuple(names[0])
        return self.change(show=list(names) or None)  # type: ignore[return-value]

    def show_performance(self) -> _SelectingRule:
        """The cheapest listing: no SHOW clause at all (inode, generation and path only)."""
        return self.change(show=None)  # type: ignore[return-value]


_SELECTING_OPTIONS = ("source", "threshold", "weight", "fileset", "show", "size", "action",
                      "when")


class MigrateRule(_SelectingRule):
    """``RULE ['name'] MIGRATE [FROM POOL 'source'] [THRESHOLD] [WEIGHT] TO POOL 'target' ...``."""

    kind = RuleKind.MIGRATE
    options = (*_SELECTING_OPTIONS, "target", "limit", "replicate", "compress")
    fields = {"target": ("to_pool", _text)}

    def __init__(self, source: str | None = None, target: str | None = None,
                 threshold: Any = None, weight: Any = None, name: str | None = None,
                 criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, source=source, target=target, threshold=threshold,
                         weight=weight, **options)

    def _check(self) -> None:
        if not self._fields.get("to_pool"):
            raise ValueError("a MigrateRule needs a target pool")


class DeleteRule(_SelectingRule):
    """``RULE ['name'] DELETE [DIRECTORIES_PLUS] [FROM POOL] [THRESHOLD] [WEIGHT] ...``."""

    kind = RuleKind.DELETE
    options = (*_SELECTING_OPTIONS, "directories_plus")

    def __init__(self, source: str | None = None, threshold: Any = None, weight: Any = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, source=source, threshold=threshold, weight=weight,
                         **options)


class ListRule(_SelectingRule):
    """``RULE ['name'] LIST 'listname' [EXCLUDE] [DIRECTORIES_PLUS] ... [SHOW] [WHERE]``."""

    kind = RuleKind.LIST
    options = (*_SELECTING_OPTIONS, "listname", "exclude", "directories_plus", "compress")

    def __init__(self, listname: str, exclude: bool = False, directories_plus: bool = False,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, listname=listname, exclude=exclude,
                         directories_plus=directories_plus, **options)

    def _check(self) -> None:
        if not self._fields.get("list_name"):
            raise ValueError("a ListRule needs a list name")


class ExcludeRule(Rule):
    """``RULE ['name'] EXCLUDE [DIRECTORIES_PLUS] [FROM POOL] [FOR FILESET] [WHERE]``."""

    kind = RuleKind.EXCLUDE
    options = ("source", "fileset", "directories_plus", "when")

    def __init__(self, name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, **options)


class ExternalListRule(Rule):
    """``RULE ['name'] EXTERNAL LIST 'listname' EXEC 'script' [OPTS] [ESCAPE] ...``.

    ``script=''`` (the default) only writes the lists (with ``mmapplypolicy -I defer``).
    """

    kind = RuleKind.EXTERNAL_LIST
    options = ("listname", "script", "opts", "escape", "threshold", "size")
    fields = {"threshold": ("threshold", _text)}

    def __init__(self, listname: str, script: str = "", opts: str | None = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, listname=listname, script=script, opts=opts,
                         **options)

    def _check(self) -> None:
        if not self._fields.get("list_name"):
            raise ValueError("an ExternalListRule needs a list name")
        if self.criteria:
            raise ValueError("EXTERNAL LIST rules take no criteria")
        self._fields.setdefault("exec_", "")


class ExternalPoolRule(Rule):
    """``RULE ['name'] EXTERNAL POOL 'poolname' EXEC 'script' [OPTS] [ESCAPE] [SIZE]``."""

    kind = RuleKind.EXTERNAL_POOL
    options = ("poolname", "script", "opts", "escape", "size")

    def __init__(self, poolname: str, script: str, opts: str | None = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, poolname=poolname, script=script, opts=opts,
                         **options)

    def _check(self) -> None:
        if not self._fields.get("pool"):
            raise ValueError("an ExternalPoolRule needs a pool name")
        if self.criteria:
            raise ValueError("EXTERNAL POOL rules take no criteria")


class RawRule(Rule):
    """Any rule given as policy text or a syntax-tree node, kept as it is."""

    def __init__(self, rule: str | SyntaxRule) -> None:
        if isinstance(rule, str):
            try:
                rule = parse_rule(rule)
            except PolicySyntaxError as exc:
                raise ValueError(f"invalid rule {rule!r}: {exc}") from None
        self.node = rule
        self.name = rule.name
        self.id = rule.name if rule.name is not None else random_id()
        self.criteria = CriteriaList()
        self._fields = {}
        self._options = {}

    @property
    def kind(self) -> RuleKind:  # type: ignore[override]
        return self.node.kind

    def change(self, **options: Any) -> Rule:
        if options:
            raise TypeError("a RawRule cannot be changed; build a new one")
        return self

    def to_ast(self) -> SyntaxRule:
        return self.node


_CLASSES: dict[RuleKind, type[Rule]] = {
    RuleKind.SET_POOL: SetPoolRule,
    RuleKind.MIGRATE: MigrateRule,
    RuleKind.DELETE: DeleteRule,
    RuleKind.LIST: ListRule,
    RuleKind.EXCLUDE: ExcludeRule,
    RuleKind.EXTERNAL_LIST: ExternalListRule,
    RuleKind.EXTERNAL_POOL: ExternalPoolRule,
}
