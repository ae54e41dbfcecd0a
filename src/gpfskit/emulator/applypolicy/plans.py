"""The rules of one mmapplypolicy job as it runs them: plans, groups, group pools.

A ``Plan`` is one selecting rule with its counters; a ``Group`` the candidates that are
chosen together (the MIGRATE/DELETE rules, or one list name). Both phases and the direct
list writer fill them; nothing here needs NumPy or pyarrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from gpfskit.emulator.applypolicy import messages
from gpfskit.language import (
    EvalContext,
    PolicyEvalError,
    Rule,
    RuleKind,
    matches,
    referenced_attributes,
)

if TYPE_CHECKING:
    import numpy as np


class EvaluationFailed(Exception):
    """A rule could not be evaluated (a type error in its expressions, say)."""


@dataclass
class Plan:
    """One rule of the job, with its counters for the summary."""

    number: int                       # position in the policy file (the summary's Rule#)
    rule: Rule
    group: Group | None = None        # None for EXCLUDE rules
    active: bool = True               # False when WHEN is false or THRESHOLD not reached
    threshold_pools: frozenset[str] | None = None   # pools over the high mark
    pool_members: tuple[str, ...] | None = None     # FROM POOL (group pools expanded)
    hits: int = 0
    kb_hit: int = 0
    chosen: int = 0
    kb_chosen: int = 0
    position: int = 0                 # index in its group's plans

    @property
    def excludes(self) -> bool:
        return self.rule.kind is RuleKind.EXCLUDE or bool(self.rule.exclude)

    @property
    def label(self) -> str:
        return messages.rule_label(self.number, self.rule)


@dataclass
class Group:
    """Candidates that are chosen together: the MIGRATE/DELETE rules, or one list."""

    key: str                          # 'migrate' or the list name
    is_list: bool
    plans: list[Plan] = field(default_factory=list)
    external: Rule | None = None      # the EXTERNAL LIST rule of a list
    escape: str | None = None
    streaming: bool = False
    extra_columns: tuple[str, ...] = ()
    # streaming output
    stream_path: str | None = None
    stream: IO[bytes] | None = None
    # spilled candidates
    spill_path: str | None = None
    spill: Any = None
    weights: list[np.ndarray] = field(default_factory=list)
    sizes: list[np.ndarray] = field(default_factory=list)
    rules: list[np.ndarray] = field(default_factory=list)
    pools: list[np.ndarray] = field(default_factory=list)
    rows: int = 0

    @property
    def name(self) -> str:
        return self.key

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(weight, KB, rule position, pool index) per candidate (joined once, then kept)."""
        import numpy as np  # only spilled groups have arrays: a streamed run loads no NumPy

        def cat(parts: list[np.ndarray], dtype: Any) -> list[np.ndarray]:
            return [np.concatenate(parts) if len(parts) != 1 else parts[0]] if parts \
                else [np.zeros(0, dtype)]
        self.weights = cat(self.weights, np.float64)
        self.sizes = cat(self.sizes, np.int64)
        self.rules = cat(self.rules, np.int32)
        self.pools = cat(self.pools, np.int32)
        return self.weights[0], self.sizes[0], self.rules[0], self.pools[0]

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def group_pools(rules: Sequence, names: Mapping[str, str] | None = None
                ) -> dict[str, tuple[tuple[str, float | None], ...]]:
    """GROUP POOL name -> ((member, LIMIT), ...) from a policy's rules."""
    result: dict[str, tuple[tuple[str, float | None], ...]] = {}
    for rule in rules:
        if rule.kind is RuleKind.GROUP_POOL and rule.pool:
            result[rule.pool] = tuple((m, lim) for m, lim in rule.group_members)
    return result


def when_is_true(rule: Rule, ctx: EvalContext) -> bool | None:
    """A WHEN that depends on no file attribute, evaluated once (None: depends on files)."""
    if rule.when is None:
        return True
    if referenced_attributes(rule.when):
        return None
    try:
        return matches(rule.when, {}, ctx)
    except PolicyEvalError as exc:
        raise EvaluationFailed(f"Rule {messages.rule_label(0, rule)}: {exc}") from None
