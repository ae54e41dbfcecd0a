"""The ordered rules of a policy: ``policy.rules``.

Dict-like and keyed by rule id (``rules['name']``, ``'name' in rules``, ``keys()``,
``values()``, ``items()``, ``len()``; iteration gives the ids), in policy order:

    rule = policy.rules.new(ListRule, 'big', criteria=Criteria.gt('size', '1G'))
    policy.rules.insert(ExcludeRule(name='tmp'), 0)
    policy.rules.destroy('big')          # by id, or pass the rule itself

``rules[3]`` is the rule at that position. ``str(rules)`` lists the ids joined by commas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gpfskit.policy.rule import Rule, SetPoolRule


class Rules:
    """See the module docstring."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: list[Rule] = []
        for rule in rules:
            self.add(rule)

    # -- changing ---------------------------------------------------------------------------
    def new(self, rule_class: type[Rule], *args: Any, **kwargs: Any) -> Rule:
        """Build ``rule_class(*args, **kwargs)``, append it and return it."""
        if not (isinstance(rule_class, type) and issubclass(rule_class, Rule)):
            raise TypeError(f"expected a rule class, got {rule_class!r}")
        return self.add(rule_class(*args, **kwargs))

    def add(self, rule: Rule) -> Rule:
        """Append a rule object; returns it."""
        return self.insert(rule, len(self._rules))

    append = add

    def insert(self, rule: Rule, index: int) -> Rule:
        """Put a rule object at position ``index`` (as ``list.insert``); returns it."""
        if not isinstance(rule, Rule):
            raise TypeError(f"expected a rule, got {rule!r}")
        if any(r is not rule and r.id == rule.id for r in self._rules):
            raise ValueError(f"there is already a rule with id {rule.id!r}")
        self._rules = [r for r in self._rules if r is not rule]
        self._rules.insert(index, rule)
        return rule

    def destroy(self, rule: str | Rule) -> None:
        """Remove a rule, given by id or as the object; KeyError if it is not there."""
        target = self[rule] if not isinstance(rule, Rule) else rule
        before = len(self._rules)
        self._rules = [r for r in self._rules if r is not target]
        if len(self._rules) == before:
            raise KeyError(f"no rule {getattr(rule, 'id', rule)!r} in this policy")

    def clear(self) -> None:
        self._rules.clear()

    # -- reading ----------------------------------------------------------------------------
    def __getitem__(self, key: str | int) -> Rule:
        if isinstance(key, int) and not isinstance(key, bool):
            return self._rules[key]
        for rule in self._rules:
            if rule.id == key:
                return rule
        raise KeyError(f"no rule {key!r} in this policy")

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, IndexError):
            return default

    def index(self, rule: str | Rule) -> int:
        target = self[rule] if not isinstance(rule, Rule) else rule
        for position, candidate in enumerate(self._rules):
            if candidate is target:
                return position
        raise KeyError(f"no rule {target.id!r} in this policy")

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Rule):
            return any(r is key for r in self._rules)
        return any(r.id == key for r in self._rules)

    def __iter__(self) -> Iterator[str]:
        return iter([r.id for r in self._rules])

    def __len__(self) -> int:
        return len(self._rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def keys(self) -> list[str]:
        return [r.id for r in self._rules]

    def values(self) -> list[Rule]:
        return list(self._rules)

    def items(self) -> list[tuple[str, Rule]]:
        return [(r.id, r) for r in self._rules]

    def __str__(self) -> str:
        return ",".join(self.keys())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"


class PlacementRules(Rules):
    """Rules of a placement policy; ``defaultPlacement`` is the unconditional SET POOL rule."""

    @property
    def defaultPlacement(self) -> SetPoolRule | None:
        """The last SET POOL rule without conditions (None if there is none)."""
        for rule in reversed(self._rules):
            if isinstance(rule, SetPoolRule) and rule.is_default:
                return rule
        return None

    @defaultPlacement.setter
    def defaultPlacement(self, rule: SetPoolRule | str) -> None:
        if isinstance(rule, str):
            rule = SetPoolRule(target=rule, name="default")
        if not (isinstance(rule, SetPoolRule) and rule.is_default):
            raise ValueError("the default placement is a SetPoolRule without conditions")
        current = self.defaultPlacement
        if current is not None:
            self._rules = [r for r in self._rules if r is not current]
        self.add(rule)

    def ordered(self) -> list[Rule]:
        """The rules with the default placement rule moved last (as they are installed)."""
        default = self.defaultPlacement
        rules = [r for r in self._rules if r is not default]
        return rules + ([default] if default is not None else [])
