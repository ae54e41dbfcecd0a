"""Checking a policy before anything runs: syntax (with line and column) and names.

Shared by ``mmchpolicy`` (validating before installing) and ``mmapplypolicy``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from gpfskit.language import Policy, PolicySyntaxError, RuleKind, parse_policy

#: THRESHOLD resource classes of EXTERNAL LIST rules (reference §4.2).
RESOURCE_CLASSES = ("POOL_CAPACITIES", "FILESET_QUOTAS", "FILESET_QUOTA_SOFT", "GROUP_QUOTAS",
                    "GROUP_QUOTA_SOFT", "USER_QUOTAS", "USER_QUOTA_SOFT")
MAX_REPLICATION = 3


def syntax_message(exc: PolicySyntaxError, text: str, source: str) -> str:
    """A syntax error as printed: position, description, the line and a caret under it."""
    lines = text.splitlines()
    message = (f"[E] Error in policy file {source}, line {exc.line}, column {exc.column}: "
               f"{exc.message}")
    if 1 <= exc.line <= len(lines):
        line = lines[exc.line - 1].expandtabs(1)
        message += f"\n  {line}\n  {' ' * max(exc.column - 1, 0)}^"
    return message


def parse(text: str, defines: Mapping[str, str] | None = None) -> Policy:
    """Parse policy text; raises PolicySyntaxError.

    ``-M name=value`` definitions substitute ``name`` everywhere, inside quoted strings too
    (``FOR FILESET('FSETNAME')``), as m4 does with command-line definitions.
    """
    return parse_policy(text, defines or None, expand_in_strings=bool(defines))


def pools_of(db: sqlite3.Connection, fs: str) -> tuple[list[str], set[str]]:
    """(pool names in id order, names of pools with data disks)."""
    names = [r["name"] for r in db.execute("SELECT name FROM pools WHERE fs = ? ORDER BY id",
                                           (fs,))]
    data = {r["pool"] for r in db.execute(
        "SELECT DISTINCT pool FROM nsds WHERE fs = ? AND data AND pool IS NOT NULL", (fs,))}
    return names, data


def _label(index: int, name: str | None) -> str:
    return f"rule {index + 1}" + (f" ('{name}')" if name is not None else "")


def problems(policy: Policy, fs: str, pools: list[str], data_pools: set[str]) -> list[str]:
    """What makes the policy unusable on file system ``fs`` (empty when it is fine)."""
    found: list[str] = []
    external = {r.pool for r in policy.rules if r.kind is RuleKind.EXTERNAL_POOL and r.pool}
    groups = {r.pool for r in policy.rules if r.kind is RuleKind.GROUP_POOL and r.pool}
    known = set(pools) | external | groups

    def check_pool(index: int, name: str | None, pool: str | None, what: str) -> None:
        if pool is not None and pool not in known:
            found.append(f"[E] {_label(index, name).capitalize()}: {what} '{pool}' is not a "
                         f"storage pool of file system {fs} nor an external or group pool.")

    for index, rule in enumerate(policy.rules):
        kind = rule.kind
        check_pool(index, rule.name, rule.from_pool, "FROM POOL")
        if kind in (RuleKind.SET_POOL, RuleKind.SET_SNAP_POOL):
            check_pool(index, rule.name, rule.pool, "pool")
            if rule.pool in external:
                found.append(f"[E] {_label(index, rule.name).capitalize()}: files cannot be "
                             f"placed in external pool '{rule.pool}'.")
        if kind in (RuleKind.MIGRATE, RuleKind.RESTORE):
            check_pool(index, rule.name, rule.to_pool, "TO POOL")
            if rule.to_pool in pools and rule.to_pool not in data_pools:
                found.append(f"[E] {_label(index, rule.name).capitalize()}: storage pool "
                             f"'{rule.to_pool}' holds no data disks.")
        if kind is RuleKind.GROUP_POOL:
            for member, _ in rule.group_members:
                if member not in pools:
                    found.append(f"[E] {_label(index, rule.name).capitalize()}: group pool "
                                 f"member '{member}' is not a storage pool of file system "
                                 f"{fs}.")
        if kind is RuleKind.MIGRATE and rule.from_pool in external and rule.to_pool in external:
            found.append(f"[E] 6027-929 {_label(index, rule.name).capitalize()}: migration "
                         f"from external pool '{rule.from_pool}' to external pool "
                         f"'{rule.to_pool}' is not supported.")
        if kind in (RuleKind.EXTERNAL_LIST, RuleKind.EXTERNAL_POOL):
            if rule.escape is not None and not rule.escape.startswith("%"):
                found.append(f"[E] {_label(index, rule.name).capitalize()}: ESCAPE must "
                             f"start with '%', not {rule.escape!r}.")
            if isinstance(rule.threshold, str) and rule.threshold.upper() not in \
                    RESOURCE_CLASSES:
                found.append(f"[E] {_label(index, rule.name).capitalize()}: unknown "
                             f"THRESHOLD resource class '{rule.threshold}'.")
        if rule.replicate is not None and not 1 <= float(rule.replicate) <= MAX_REPLICATION:
            found.append(f"[E] {_label(index, rule.name).capitalize()}: REPLICATE must be "
                         f"between 1 and {MAX_REPLICATION}.")
        for limit in ([rule.limit] if rule.limit is not None else []) + \
                [lim for _, lim in rule.group_members if lim is not None]:
            if not 0 <= float(limit) <= 100:
                found.append(f"[E] {_label(index, rule.name).capitalize()}: LIMIT must be a "
                             "percentage (0 to 100).")
        if isinstance(rule.threshold, tuple):
            values = [float(v) for v in rule.threshold]
            if any(not 0 <= v <= 100 for v in values) or values != sorted(values, reverse=True):
                found.append(f"[E] {_label(index, rule.name).capitalize()}: THRESHOLD takes "
                             "percentages, high >= low >= premigrate.")
    return found
