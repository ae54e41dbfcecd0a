"""Phase 2: order the candidates and choose among them.

Each group's candidates are kept as four compact arrays (weight, KB, rule, source pool); the
rows themselves stay in the group's spill file. ``--choice-algorithm exact`` (the default)
and ``best`` sort by weight, highest first (a rule without WEIGHT has weight INF, ties keep
scan order); ``fast`` keeps scan order.

Without THRESHOLD, LIMIT or group pools every candidate is chosen. Otherwise the candidates
are walked in order against the pool occupancy sampled at job start, updated as files are
chosen (a migration moves its KB from the source pool to the target, a deletion or a listed
file frees it):

* ``THRESHOLD(high, low[, premigrate])``: choose while the pool (the FROM POOL, else the
  file's pool) is above ``low`` percent; with ``premigrate`` and an external target, files
  beyond that are premigrated while the pool is above ``premigrate`` percent. Without
  ``low`` every candidate of the rule is chosen once the rule applies.
* ``LIMIT(n)`` on an internal TO POOL: a file is not chosen if it would fill the target
  beyond n percent (100 when the rule has no LIMIT); a smaller later file may still fit.
* A group pool target takes the first member (in THEN order) with room under its LIMIT.
* External targets have no capacity checks (LIMIT is ignored for them, as in the product).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gpfskit.emulator.applypolicy.plans import Group, Plan
from gpfskit.language import RuleKind


@dataclass
class Occupancy:
    """KB used and KB total per pool, with group pools as the sums of their members."""

    used: dict[str, float]
    total: dict[str, float]
    groups: dict[str, tuple[tuple[str, float | None], ...]] = field(default_factory=dict)

    def copy(self) -> Occupancy:
        return Occupancy(dict(self.used), dict(self.total), self.groups)

    def members(self, name: str) -> tuple[str, ...]:
        if name in self.groups:
            return tuple(m for m, _ in self.groups[name])
        return (name,)

    def used_of(self, name: str) -> float:
        return sum(self.used.get(m, 0.0) for m in self.members(name))

    def total_of(self, name: str) -> float:
        return sum(self.total.get(m, 0.0) for m in self.members(name))

    def percent(self, name: str) -> float:
        total = self.total_of(name)
        return self.used_of(name) * 100.0 / total if total else 100.0

    def percents(self) -> dict[str, float]:
        names = set(self.total) | set(self.groups)
        return {n: self.percent(n) for n in names}

    def move(self, source: str | None, target: str | None, kb: float) -> None:
        if source is not None and source in self.used:
            self.used[source] -= kb
        if target is not None and target in self.used:
            self.used[target] += kb


@dataclass
class Choice:
    order: np.ndarray                 # candidate indices, in execution order
    premigrate: np.ndarray            # per chosen: premigrate instead of migrate
    targets: list[str | None] | None  # per chosen: the resolved TO POOL (None: the rule's)


def _constrained(plan: Plan, occupancy: Occupancy | None, external: set[str]) -> bool:
    if occupancy is None:
        return False
    rule = plan.rule
    if isinstance(rule.threshold, tuple):
        return True
    if rule.kind is RuleKind.MIGRATE and rule.to_pool not in external:
        return rule.limit is not None or rule.to_pool in occupancy.groups
    return False


def choose(group: Group, *, algorithm: str, pool_names: Sequence[str],
           occupancy: Occupancy | None, external: set[str]) -> Choice:
    """Choose among ``group``'s candidates; updates the plans' Chosen / KB_Chosen."""
    weights, sizes, rules, pools = group.arrays()
    n = len(weights)
    if algorithm != "fast" and n > 1 and not np.all(weights == weights[0]):
        order = np.argsort(-weights, kind="stable")
    else:
        order = np.arange(n)
    constrained = [_constrained(p, occupancy, external) for p in group.plans]
    if not any(constrained):
        choice = Choice(order, np.zeros(n, bool), None)
    else:
        assert occupancy is not None
        choice = _serial(group.plans, constrained, order, sizes, rules, pools, pool_names,
                         occupancy.copy(), external)
    chosen_rules = rules[choice.order]
    counts = np.bincount(chosen_rules, minlength=len(group.plans))
    kbs = np.bincount(chosen_rules, weights=sizes[choice.order].astype(np.float64),
                      minlength=len(group.plans))
    for k, plan in enumerate(group.plans):
        plan.chosen += int(counts[k])
        plan.kb_chosen += int(kbs[k])
    return choice


def predicted(occupancy: Occupancy, groups: Sequence[Group], choices: dict[Any, Choice],
              pool_names: Sequence[str], external: set[str]) -> Occupancy:
    """Pool usage once the chosen files are migrated or deleted (premigrations and moves to
    external pools leave the data where it is)."""
    after = occupancy.copy()
    for group in groups:
        choice = choices.get(group.key)
        if choice is None or not len(choice.order):
            continue
        _, sizes, rules, pools = group.arrays()
        for i, j in enumerate(choice.order.tolist()):
            rule = group.plans[int(rules[j])].rule
            source = pool_names[pools[j]] if pools[j] >= 0 else None
            if rule.kind is RuleKind.DELETE:
                after.move(source, None, float(sizes[j]))
            elif rule.kind is RuleKind.MIGRATE and not choice.premigrate[i]:
                target = (choice.targets[i] if choice.targets else None) or rule.to_pool
                if target not in external:
                    after.move(source, target, float(sizes[j]))
    return after


def _serial(plans: list[Plan], constrained: list[bool], order: np.ndarray, sizes: np.ndarray,
            rules: np.ndarray, pools: np.ndarray, pool_names: Sequence[str],
            state: Occupancy, external: set[str]) -> Choice:
    chosen: list[int] = []
    premigrated: list[bool] = []
    targets: list[str | None] = []
    virtual: dict[str, float] = {}   # occupancy net of premigrated files, per threshold pool
    size_list = sizes.tolist()
    rule_list = rules.tolist()
    pool_list = pools.tolist()
    for j in order.tolist():
        r = rule_list[j]
        plan = plans[r]
        rule = plan.rule
        kb = float(size_list[j])
        source = pool_names[pool_list[j]] if pool_list[j] >= 0 else None
        premigrate = False
        if constrained[r] and isinstance(rule.threshold, tuple):
            key = rule.from_pool or source
            if key is not None and state.total_of(key):
                total = state.total_of(key)
                low = rule.threshold[1] if len(rule.threshold) > 1 else None
                premig = rule.threshold[2] if len(rule.threshold) > 2 else None
                used = state.used_of(key)
                net = virtual.setdefault(key, used)
                if low is not None and used * 100.0 <= float(low) * total:
                    if (premig is not None and rule.to_pool in external
                            and net * 100.0 > float(premig) * total):
                        premigrate = True
                    else:
                        continue
        target: str | None = None
        if rule.kind is RuleKind.MIGRATE:
            to = rule.to_pool or ""
            if to in external or to == source:
                target = to
            elif to in state.groups:
                target = _room_in_group(state, to, kb)
                if target is None:
                    continue
            else:
                limit = float(rule.limit) if rule.limit is not None else 100.0
                if constrained[r] and state.total.get(to) and \
                        (state.used.get(to, 0.0) + kb) * 100.0 > limit * state.total[to]:
                    continue
                target = to
        chosen.append(j)
        premigrated.append(premigrate)
        targets.append(target)
        key = rule.from_pool or source
        if key is not None and key in virtual:
            virtual[key] -= kb
        if premigrate:
            continue
        if rule.kind is RuleKind.MIGRATE:
            if target not in external and target != source:
                state.move(source, target, kb)
            elif target in external:
                state.move(source, None, kb)
        else:
            state.move(source, None, kb)
    return Choice(np.asarray(chosen, np.int64), np.asarray(premigrated, bool), targets)


def _room_in_group(state: Occupancy, group: str, kb: float) -> str | None:
    for member, limit in state.groups[group]:
        total = state.total.get(member, 0.0)
        if not total:
            continue
        cap = float(limit) if limit is not None else 100.0
        if (state.used.get(member, 0.0) + kb) * 100.0 <= cap * total:
            return member
    return None
