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

Reading an option gives the value derived from the rule's syntax-tree fields, so a rule
built in Python reads the same as that rule parsed back from its text: names are strings,
``threshold`` and ``fileset`` are tuples (``fileset='projects'`` reads ``('projects',)``),
SQL clauses (``weight``, ``size``, ``action``, ``when``, ``show``) read as their canonical
text, and an option that is not set reads ``None`` (``False`` for the flags).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    parse_rule,
)
from gpfskit.language import Rule as SyntaxRule
from gpfskit.policy import attributes
from gpfskit.policy.criteria import CriteriaList
from gpfskit.policy.criteria import expression as condition_expression
from gpfskit.policy.errors import PolicyError


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
    """A clause's SQL expression: a number, or what a criterion can be (text, a Criteria or
    a syntax-tree node)."""
    if isinstance(value, (bool, int, float)):
        return Literal(value)
    return condition_expression(value, "expression")


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
    if isinstance(value, Rule):          # r.change(show=r.show_performance()): r's own SHOW
        return value.to_ast().show or ()
    return key_value_show(value)


class show_builder:
    """A SHOW helper that works on the class and on a rule alike (as scripts use it):
    ``ListProcessingRule.show_attributes('FILE_SIZE')`` returns the value ``show=`` takes;
    ``rule.show_attributes('FILE_SIZE')`` applies it to the rule and returns the rule, so
    ``r.change(show=r.show_performance())`` works too."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    def __get__(self, rule: Any, owner: type) -> Callable[..., Any]:
        def call(*names: Any) -> Any:
            if len(names) == 1 and not isinstance(names[0], str):
                names = tuple(names[0])
            value = self.build(owner, *names)
            return value if rule is None else rule.change(show=value)
        return call


def _bool(value: Any) -> bool:
    return bool(value)


def _same(value: Any) -> Any:
    return value


def _sql(value: Expr | None) -> str | None:
    return None if value is None else format_expression(value)


def _show_text(items: tuple[Expr, ...] | None) -> str | None:
    return None if items is None else " ".join(format_expression(item) for item in items)


@dataclass(frozen=True)
class Option:
    """How a friendly option maps onto a field of the syntax tree.

    ``to_field`` checks and converts what a user passes; ``to_value`` gives back the value
    the option reads as, derived from the field alone, so a rule built in Python and the
    same rule parsed from its text read the same.
    """

    field: str
    to_field: Callable[[Any], Any]
    to_value: Callable[[Any], Any] = _same


#: Friendly option name -> its field, for every option any rule has.
OPTIONS: dict[str, Option] = {
    "source": Option("from_pool", _text),
    "threshold": Option("threshold", _percentages),
    "weight": Option("weight", expression, _sql),
    "limit": Option("limit", _number),
    "replicate": Option("replicate", _number),
    "fileset": Option("for_fileset", _filesets),
    "show": Option("show", _show, _show_text),
    "size": Option("size", expression, _sql),
    "action": Option("action", expression, _sql),
    "when": Option("when", expression, _sql),
    "directories_plus": Option("directories_plus", _bool),
    "exclude": Option("exclude", _bool),
    "compress": Option("compress", _text),
    "listname": Option("list_name", _text),
    "poolname": Option("pool", _text),
    "script": Option("exec_", _text),
    "opts": Option("opts", _text),
    "escape": Option("escape", _text),
}

#: Syntax-tree field -> its default (a rule stores only the fields that differ from it).
_DEFAULTS = {name: SyntaxRule.__dataclass_fields__[name].default
             for name in SyntaxRule.__dataclass_fields__
             if name not in ("kind", "name", "where")}


class Rule:
    """Base of all rules (see the module docstring).

    A rule holds its name, its criteria and the syntax-tree fields of its clauses (only
    those that differ from the defaults); every option is read from those fields.
    """

    kind: ClassVar[RuleKind | None] = None
    #: The options this kind of rule takes.
    options: ClassVar[tuple[str, ...]] = ()
    #: Options a kind stores differently from :data:`OPTIONS`.
    fields: ClassVar[dict[str, Option]] = {}
    #: Fields the policy text of this kind always has, with the value used when unset.
    implied: ClassVar[dict[str, Any]] = {}

    def __init__(self, name: str | None = None, criteria: Any = None, **options: Any) -> None:
        self._start(None if name is None else _text(name), CriteriaList(criteria), {})
        self.change(**options)

    def _start(self, name: str | None, criteria: CriteriaList, fields: dict[str, Any]) -> None:
        """Set the rule's whole state (the one place both constructors go through)."""
        self.name = name
        self.id = name if name is not None else random_id()
        self.criteria = criteria
        self._fields = fields

    # -- options ----------------------------------------------------------------------------
    def _option(self, option: str) -> Option:
        if option not in self.options:
            raise TypeError(f"{type(self).__name__} has no option {option!r} "
                            f"(options: {', '.join(self.options) or 'none'})")
        return self.fields.get(option) or OPTIONS[option]

    def _value(self, field: str) -> Any:
        """A field's value: the rule's own, else the kind's implied one, else the default."""
        return self._fields.get(field, self.implied.get(field, _DEFAULTS[field]))

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
            spec = self._option(option)
            converted = None if value is None else spec.to_field(value)
            if converted == _DEFAULTS[spec.field]:
                self._fields.pop(spec.field, None)
            else:
                self._fields[spec.field] = converted
        return self

    def __getattr__(self, option: str) -> Any:
        if option.startswith("_") or option not in type(self).options:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {option!r}")
        spec = self._option(option)
        return spec.to_value(self._value(spec.field))

    # -- policy text ------------------------------------------------------------------------
    def problem(self) -> str | None:
        """What the rule lacks that Storage Scale needs, or None. A rule may be built,
        inserted and printed while it lacks it; installing or running it is refused."""
        return None

    def check(self) -> None:
        """Raise PolicyError naming the rule when it lacks something its kind needs."""
        problem = self.problem()
        if problem is not None:
            label = f"rule {self.name!r}" if self.name is not None else "an unnamed rule"
            raise PolicyError(f"{label} ({self}) {problem}")

    def _check(self) -> None:
        """Raise ValueError when the rule cannot even be written (see also ``problem``)."""

    def to_ast(self) -> SyntaxRule:
        """The rule as a syntax-tree node."""
        self._check()
        assert self.kind is not None
        return SyntaxRule(kind=self.kind, name=self.name, where=self.criteria.expression(),
                          **{**self.implied, **self._fields})

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
        fields = {field: getattr(node, field) for field, default in _DEFAULTS.items()
                  if getattr(node, field) != default}
        rule._start(node.name, CriteriaList(node.where), fields)
        return rule

    @staticmethod
    def from_text(text: str) -> Rule:
        """The rule object for one rule of policy text."""
        try:
            return Rule.from_ast(parse_rule(text))
        except PolicySyntaxError as exc:
            raise ValueError(f"invalid rule {text!r}: {exc}") from None


class SetPoolRule(Rule):
    """``RULE ['name'] SET POOL 'target' [LIMIT] [REPLICATE] [FOR FILESET] [WHERE]``."""

    kind = RuleKind.SET_POOL
    options = ("target", "fileset", "limit", "replicate", "action")
    fields = {"target": Option("pool", _text)}

    def __init__(self, target: str | None = None, fileset: Any = None, limit: Any = None,
                 replicate: Any = None, name: str | None = None, criteria: Any = None,
                 **options: Any) -> None:
        super().__init__(name, criteria, target=target, fileset=fileset, limit=limit,
                         replicate=replicate, **options)

    def problem(self) -> str | None:
        return None if self._fields.get("pool") else "has no target pool: SET POOL needs one"

    @property
    def is_default(self) -> bool:
        """True for an unconditional placement rule (no WHERE, no FOR FILESET)."""
        return not self.criteria and "for_fileset" not in self._fields


class SelectingRule(Rule):
    """Rules that select files during a policy scan (they can SHOW attributes)."""

    @show_builder
    def show_attributes(cls, *names: str) -> Any:
        """SHOW just these attributes (as ``NAME=value`` pairs)."""
        return list(names) or None

    @show_builder
    def show_performance(cls) -> Any:
        """The cheapest listing: no SHOW clause at all (inode, generation and path only)."""
        return None


SELECTING_OPTIONS = ("source", "threshold", "weight", "fileset", "show", "size", "action",
                      "when")


class MigrateRule(SelectingRule):
    """``RULE ['name'] MIGRATE [FROM POOL 'source'] [THRESHOLD] [WEIGHT] TO POOL 'target' ...``."""

    kind = RuleKind.MIGRATE
    options = (*SELECTING_OPTIONS, "target", "limit", "replicate", "compress")
    fields = {"target": Option("to_pool", _text)}

    def __init__(self, source: str | None = None, target: str | None = None,
                 threshold: Any = None, weight: Any = None, name: str | None = None,
                 criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, source=source, target=target, threshold=threshold,
                         weight=weight, **options)

    def problem(self) -> str | None:
        return None if self._fields.get("to_pool") else \
            "has no target pool: Storage Scale's MIGRATE needs TO POOL 'name'"


class DeleteRule(SelectingRule):
    """``RULE ['name'] DELETE [DIRECTORIES_PLUS] [FROM POOL] [THRESHOLD] [WEIGHT] ...``."""

    kind = RuleKind.DELETE
    options = (*SELECTING_OPTIONS, "directories_plus")

    def __init__(self, source: str | None = None, threshold: Any = None, weight: Any = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, source=source, threshold=threshold, weight=weight,
                         **options)


class ListRule(SelectingRule):
    """``RULE ['name'] LIST 'listname' [EXCLUDE] [DIRECTORIES_PLUS] ... [SHOW] [WHERE]``."""

    kind = RuleKind.LIST
    options = (*SELECTING_OPTIONS, "listname", "exclude", "directories_plus", "compress")

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
    fields = {"threshold": Option("threshold", _text)}
    implied = {"exec_": ""}

    def __init__(self, listname: str, script: str = "", opts: str | None = None,
                 name: str | None = None, criteria: Any = None, **options: Any) -> None:
        super().__init__(name, criteria, listname=listname, script=script, opts=opts,
                         **options)

    def _check(self) -> None:
        if not self._fields.get("list_name"):
            raise ValueError("an ExternalListRule needs a list name")
        if self.criteria:
            raise ValueError("EXTERNAL LIST rules take no criteria")


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
        self._start(rule.name, CriteriaList(), {})

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
