"""Profiles: where a space's data is placed, and how it moves between pools afterwards.

A space's fileset is named ``<pool>-<space name>``, and each data pool has one placement rule
routing that prefix to it::

    RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'

A profile is a pool (that rule) plus optional ILM steps (MIGRATE rules from pool to pool,
selected by age, size or name pattern, run when the source pool passes a threshold) and
placement controls (SET POOL rules for file name patterns and size ranges). Everything a
profile adds is scoped to the ``<pool>-`` prefix, named ``<profile>-...``, and installed into
the file system's policy through :class:`gpfskit.policy.PlacementPolicy`, which keeps the
default rule last. Profiles that share a pool share that prefix, so their placement controls
and ILM steps apply to all spaces of the pool.

Placement happens when a file is created, before it has data: a size range only routes files
whose size is known at creation (files restored or preallocated), as on a real cluster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from gpfskit.api import Cluster, Filesystem
from gpfskit.mgmt.provision import recorded
from gpfskit.mgmt.provision.errors import FieldError, RefusedError
from gpfskit.mgmt.provision.names import object_name
from gpfskit.policy import Criteria, MigrateRule, PlacementPolicy, SetPoolRule

log = logging.getLogger("gpfskit.mgmt.provision")

NO_DEFAULT_RULE = "GK0117E"


def placement_rule_name(pool: str) -> str:
    return f"{pool}-placement"


def fileset_prefix(pool: str) -> str:
    """The fileset name prefix that the pool's placement rule routes: ``sas1-``."""
    return f"{pool}-"


def _prefix_criteria(pool: str) -> Criteria:
    return Criteria.like("fileset", fileset_prefix(pool) + "*")


def pool_placement_rule(pool: str) -> SetPoolRule:
    """``RULE '<pool>-placement' SET POOL '<pool>' WHERE FILESET_NAME LIKE '<pool>-%'``."""
    return SetPoolRule(target=pool, name=placement_rule_name(pool),
                       criteria=_prefix_criteria(pool))


@dataclass(frozen=True)
class MigrationStep:
    """Move files of the profile's spaces from ``source`` to ``target``.

    Files are chosen by any of: not accessed for ``older_than_days``, larger than
    ``larger_than`` bytes, name matching ``name_pattern`` (``*`` wildcard). ``threshold`` is
    (high, low) occupancy percentages of the source pool: the step runs when the pool is
    fuller than high and stops at low.
    """

    source: str
    target: str
    older_than_days: int | None = None
    larger_than: int | None = None
    name_pattern: str | None = None
    threshold: tuple[int, int] | None = None


@dataclass(frozen=True)
class PlacementControl:
    """Place new files of the profile's spaces matching a name pattern (any of
    ``name_patterns``, ``*`` wildcard) and/or a size range [``min_size``, ``max_size``) bytes in
    ``pool``."""

    pool: str
    name_patterns: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None


@dataclass(frozen=True)
class Profile:
    """A profile of file system ``filesystem``: its pool, ILM steps and placement controls."""

    name: str
    filesystem: str
    pool: str
    migrations: tuple[MigrationStep, ...] = field(default_factory=tuple)
    placements: tuple[PlacementControl, ...] = field(default_factory=tuple)

    @property
    def rule_prefix(self) -> str:
        return f"{self.name}-"


def _whole(value: object, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FieldError(what, f"must be a whole number of at least {minimum}, not {value!r}")
    return value


def _pattern(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 255 or \
            any(ord(c) < 32 for c in value) or "/" in value:
        raise FieldError(what, f"must be a file name pattern such as '*.mp4', not {value!r}")
    return value


def existing_filesystem(name: object, field: str = "filesystem") -> Filesystem:
    """The file system named ``name`` (FieldError when the cluster has none of that name)."""
    filesystems = Cluster().filesystems
    if not isinstance(name, str) or name not in filesystems:
        raise FieldError(field, f"file system {name!r} is not known to the cluster")
    return filesystems[name]


def data_pools(filesystem: str) -> list[str]:
    """The pools of ``filesystem`` that hold data, in ``mmlspool`` order."""
    pools = existing_filesystem(filesystem).pools
    return [name for name, pool in pools.items() if pool.data]


def check_profile(profile: Profile) -> Profile:
    """Validate a profile against its file system (FieldError naming what is wrong)."""
    object_name(profile.name, "name")
    pools = data_pools(profile.filesystem)

    def pool(value: object, what: str) -> None:
        if value not in pools:
            raise FieldError(what, f"{value!r} is not a data pool of file system "
                             f"{profile.filesystem} (pools: {', '.join(pools)})")

    pool(profile.pool, "pool")
    for index, step in enumerate(profile.migrations):
        where = f"ilm_steps[{index}]"
        pool(step.source, f"{where}.source")
        pool(step.target, f"{where}.target")
        if step.source == step.target:
            raise FieldError(where, "source and target pools are the same")
        if step.older_than_days is not None:
            _whole(step.older_than_days, f"{where}.older_than_days")
        if step.larger_than is not None:
            _whole(step.larger_than, f"{where}.larger_than")
        if step.name_pattern is not None:
            _pattern(step.name_pattern, f"{where}.name_pattern")
        if step.threshold is not None:
            high, low = (_whole(v, f"{where}.threshold") for v in step.threshold)
            if not 0 <= low <= high <= 100:
                raise FieldError(f"{where}.threshold",
                                 "must be (high, low) percentages with 0 <= low <= high <= 100")
        if step.older_than_days is None and step.larger_than is None and \
                step.name_pattern is None and step.threshold is None:
            raise FieldError(where, "give an age, a size, a name pattern or a threshold")
    for index, control in enumerate(profile.placements):
        where = f"placement_controls[{index}]"
        pool(control.pool, f"{where}.pool")
        for pattern in control.name_patterns:
            _pattern(pattern, f"{where}.name_patterns")
        low = _whole(control.min_size, f"{where}.min_size") \
            if control.min_size is not None else None
        high = _whole(control.max_size, f"{where}.max_size", 1) \
            if control.max_size is not None else None
        if low is not None and high is not None and low >= high:
            raise FieldError(f"{where}.max_size", "must be larger than min_size")
        if not control.name_patterns and low is None and high is None:
            raise FieldError(where, "give name patterns or a size range")
    return profile


def profile_rules(profile: Profile) -> tuple[list[SetPoolRule], list[MigrateRule]]:
    """The placement controls and ILM steps of a profile as rules, in order."""
    prefix = _prefix_criteria(profile.pool)
    placements = []
    for index, control in enumerate(profile.placements, start=1):
        terms = [prefix]
        if control.name_patterns:
            terms.append(Criteria.Or(*[Criteria.like("name", p) for p in control.name_patterns])
                         if len(control.name_patterns) > 1
                         else Criteria.like("name", control.name_patterns[0]))
        if control.min_size is not None:
            terms.append(Criteria.ge("size", control.min_size))
        if control.max_size is not None:
            terms.append(Criteria.lt("size", control.max_size))
        placements.append(SetPoolRule(target=control.pool, criteria=Criteria.And(*terms),
                                      name=f"{profile.rule_prefix}place-{index}"))
    migrations = []
    for index, step in enumerate(profile.migrations, start=1):
        terms = [prefix]
        if step.older_than_days is not None:
            terms.append(Criteria.gt("access", step.older_than_days))
        if step.larger_than is not None:
            terms.append(Criteria.gt("size", step.larger_than))
        if step.name_pattern is not None:
            terms.append(Criteria.like("name", step.name_pattern))
        migrations.append(MigrateRule(source=step.source, target=step.target,
                                      threshold=step.threshold, criteria=Criteria.And(*terms),
                                      name=f"{profile.rule_prefix}ilm-{index}"))
    return placements, migrations


def final_default_rule(policy: PlacementPolicy) -> SetPoolRule | None:
    """The unconditional SET POOL rule that ends the placement rules, if there is one."""
    placement = [r for r in policy.rules.values() if isinstance(r, SetPoolRule)]
    if placement and placement[-1].is_default:
        return placement[-1]
    return None



@dataclass(frozen=True)
class PolicyChange:
    """What an install did: the rules added or replaced, a coded warning when it skipped,
    and (in dry run) the commands it would run."""

    filesystem: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    warning: str | None = None
    commands: tuple[str, ...] = ()


def ensure_default_placement_rules(filesystem: str) -> PolicyChange:
    """Install ``RULE '<pool>-placement' ...`` for every data pool that lacks one, before the
    final default rule (``adminctl policy install default``).

    Nothing is installed when every rule is present. A file system whose policy does not end
    with a default placement rule is skipped with a coded warning, since adding rules there
    could change where its existing data goes.
    """
    start = recorded.mark()
    pools = data_pools(filesystem)
    policy = PlacementPolicy(filesystem)
    default = final_default_rule(policy)
    if default is None:
        warning = (f"[{NO_DEFAULT_RULE}] Filesystem {filesystem} has no default placement "
                   "rule - skipping")
        log.warning(warning)
        return PolicyChange(filesystem, warning=warning)
    missing = [pool for pool in pools if placement_rule_name(pool) not in policy.rules]
    if not missing:
        return PolicyChange(filesystem)
    at = policy.rules.index(default)
    for offset, pool in enumerate(missing):
        policy.rules.insert(pool_placement_rule(pool), at + offset)
    policy.save()
    added = tuple(placement_rule_name(p) for p in missing)
    log.info("installed placement rules %s on file system %s", ", ".join(added), filesystem)
    return PolicyChange(filesystem, added=added, commands=recorded.since(start))


def install_profile(profile: Profile) -> PolicyChange:
    """Install (or reinstall) a profile's rules into its file system's policy.

    The pool's placement rule is added if missing; the profile's placement controls go
    before it (the first matching SET POOL rule wins), its ILM steps after the placement
    rules. Rules of an earlier install of the same profile are replaced.
    """
    start = recorded.mark()
    check_profile(profile)
    policy = PlacementPolicy(profile.filesystem)
    if final_default_rule(policy) is None:
        raise RefusedError(f"[{NO_DEFAULT_RULE}] Filesystem {profile.filesystem} has no "
                           "default placement rule; install one before adding profiles")
    removed = _drop_profile_rules(policy, profile.name)
    pool_rule = placement_rule_name(profile.pool)
    added: list[str] = []
    if pool_rule not in policy.rules:
        policy.rules.insert(pool_placement_rule(profile.pool),
                            policy.rules.index(final_default_rule(policy)))
        added.append(pool_rule)
    placements, migrations = profile_rules(profile)
    at = policy.rules.index(pool_rule)
    for offset, rule in enumerate(placements):
        policy.rules.insert(rule, at + offset)
    for rule in migrations:
        policy.rules.add(rule)
    added += [r.id for r in placements + migrations]
    if added or removed:
        policy.save()
    return PolicyChange(profile.filesystem, added=tuple(added), removed=tuple(removed),
                        commands=recorded.since(start))


def _drop_profile_rules(policy: PlacementPolicy, profile_name: str) -> list[str]:
    prefixes = (f"{profile_name}-place-", f"{profile_name}-ilm-")
    names = [rule_id for rule_id in policy.rules if rule_id.startswith(prefixes)]
    for rule_id in names:
        policy.rules.destroy(rule_id)
    return names


def remove_profile(profile: Profile) -> PolicyChange:
    """Remove a profile's placement controls and ILM steps from the policy (the pool's
    placement rule stays: other spaces and the default profile of the pool rely on it)."""
    start = recorded.mark()
    policy = PlacementPolicy(profile.filesystem)
    removed = _drop_profile_rules(policy, profile.name)
    if removed:
        policy.save()
    return PolicyChange(profile.filesystem, removed=tuple(removed),
                        commands=recorded.since(start))


def pool_of_fileset(filesystem: str, fileset: str) -> str | None:
    """The pool the installed placement policy gives new files of ``fileset``."""
    return PlacementPolicy(filesystem).pool_for_fileset(fileset)
