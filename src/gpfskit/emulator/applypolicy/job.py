"""One mmapplypolicy run: checks, then the three phases (reference §5.2).

Everything that can be refused is checked before the scan starts (options, target, policy
syntax and names, interface scripts, the single-instance lock), so a refusal changes
nothing. The job's work files (spilled candidates, work lists, script buckets) live in a
private directory under ``-s`` (default /tmp), removed when the job ends however it ends.

Phase 1 runs vectorised over Arrow batches (``phases``), or, when the lister settles every
rule and the lists are only kept, without Arrow (``direct``); NumPy and pyarrow are imported
only by the modules of the first way, and only when a job takes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import os
import stat as statmod
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gpfskit.emulator import capacity, fileattrs, journal, placement, steps
from gpfskit.emulator.applypolicy import checks, direct, messages, options, targets
from gpfskit.emulator.applypolicy.plans import (
    EvaluationFailed,
    Group,
    Plan,
    group_pools,
    when_is_true,
)
from gpfskit.emulator.applypolicy.worklists import Outcome, WorkLists
from gpfskit.emulator.args import Parsed
from gpfskit.emulator.dispatch import CommandError, Invocation
from gpfskit.language import (
    EvalContext,
    Policy,
    PolicySyntaxError,
    RuleKind,
    referenced_attributes,
    rule_matches,
)

if TYPE_CHECKING:
    from gpfskit.emulator.applypolicy import choosing, phases

SELECTING = (RuleKind.MIGRATE, RuleKind.DELETE, RuleKind.LIST, RuleKind.EXCLUDE)


def run(inv: Invocation, args: Parsed) -> None:
    opts = options.parse(inv, args)
    target = targets.resolve(inv, opts.target, opts.snapshot, opts.scope)
    fs = target.fs
    text, source = _policy_text(inv, opts, fs["name"])
    try:
        policy = checks.parse(text, opts.defines)
    except PolicySyntaxError as exc:
        raise inv.fail(checks.syntax_message(exc, text, source), 22) from None
    pools, data_pools = checks.pools_of(inv.db, fs["name"])
    found = checks.problems(policy, fs["name"], pools, data_pools)
    if found:
        raise inv.fail("\n".join(found), 22)
    Job(inv, opts, target, policy, source, pools).run()


def _policy_text(inv: Invocation, opts: options.Options, fs: str) -> tuple[str, str]:
    if opts.policy_file is not None:
        try:
            with open(opts.policy_file, encoding="utf-8", errors="surrogateescape") as f:
                return f.read(), opts.policy_file
        except OSError as exc:
            raise inv.fail(f"[E] Cannot open policy file {opts.policy_file}: "
                           f"{exc.strerror}.", 2) from None
    row = inv.db.execute("SELECT text, name FROM policies WHERE fs = ?", (fs,)).fetchone()
    if row is None:
        return "", "(none installed)"
    return row["text"], f"installed policy '{row['name']}'"


@contextlib.contextmanager
def _single_instance(inv: Invocation, fs: str, wanted: bool) -> Iterator[None]:
    if not wanted:
        yield
        return
    directory = Path(inv.root) / "locks"
    directory.mkdir(exist_ok=True)
    handle = open(directory / f"mmapplypolicy.{fs}.lock", "a+")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise inv.fail(f"[E] Another mmapplypolicy --single-instance job is running "
                               f"on file system {fs}; this one does not start.", 16) from None
            raise
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


@dataclasses.dataclass
class Evaluation:
    """What phase 1 leaves for the others: the rules' plans (with their hit counts), the
    groups holding the candidates, the pool occupancy the rules saw, how many files no rule
    applied to, and whether the lister settled every rule (``lean``: lists only kept)."""

    plans: list[Plan]
    groups: list[Group]
    occupancy: choosing.Occupancy | None
    no_rule: int
    lean: bool


class Job:
    def __init__(self, inv: Invocation, opts: options.Options, target: targets.Target,
                 policy: Policy, source: str, pools: list[str]):
        self.inv = inv
        self.opts = opts
        self.target = target
        self.policy = policy
        self.source = source
        self.pools = pools
        self.fs = target.fs
        rules = policy.rules
        self.external_lists = {}
        self.external_pools = {}
        for rule in rules:
            if rule.kind is RuleKind.EXTERNAL_LIST and rule.list_name:
                self.external_lists.setdefault(rule.list_name, rule)
            elif rule.kind is RuleKind.EXTERNAL_POOL and rule.pool:
                self.external_pools.setdefault(rule.pool, rule)
        self.group_pools = group_pools(rules)
        snaps = {r["name"]: r["snap_id"] for r in inv.db.execute(
            "SELECT name, snap_id FROM snapshots WHERE fs = ?", (self.fs["name"],))}
        # SetXattr in WHERE or SHOW acts as the rules are evaluated (not under -I test)
        self.ctx = EvalContext(current_timestamp=opts.now, snap_id=snaps, xattr=_read_xattr,
                               xattrs=_read_xattrs,
                               setxattr=_evaluation_setxattr if opts.action != "test" else None)
        self.placement = placement.load(inv.db, self.fs["name"])
        self.level = opts.level

    # Output --------------------------------------------------------------------------------
    def info(self, text: str) -> None:
        if self.level >= 1:
            self.inv.say(text)

    def say(self, text: str) -> None:
        self.inv.say(text)

    # Checks that need the policy ---------------------------------------------------------------
    def _selecting(self) -> list[int]:
        return [i for i, r in enumerate(self.policy.rules) if r.kind in SELECTING]

    def _used_externals(self) -> list:
        used = []
        for rule in self.policy.rules:
            if rule.kind is RuleKind.LIST and not rule.exclude:
                ext = self.external_lists.get(rule.list_name or "")
                if ext is not None:
                    used.append(ext)
            elif rule.kind is RuleKind.MIGRATE and rule.to_pool in self.external_pools:
                used.append(self.external_pools[rule.to_pool])
        return used

    def _check_scripts(self) -> None:
        if self.opts.action != "yes":
            return
        for rule in self._used_externals():
            script = rule.exec_
            if not script:
                continue
            if not os.path.isfile(script) or not os.access(script, os.X_OK):
                raise self.inv.fail(f"[E] Interface script {script} of rule "
                                    f"{messages.rule_label(0, rule)} does not exist or is not "
                                    "executable.", 2)

    def _check_snapshot(self) -> None:
        if self.target.snapshot is None or self.opts.action != "yes":
            return
        for rule in self.policy.rules:
            if rule.kind in (RuleKind.MIGRATE, RuleKind.DELETE):
                raise self.inv.fail(f"[E] Snapshot {self.target.snapshot} is read-only: "
                                    f"{rule.kind.value} rules cannot be applied to it (use -I "
                                    "test or defer).", 30)

    def _check_thresholds(self) -> None:
        for rule in self.policy.rules:
            if rule.kind is RuleKind.LIST and isinstance(rule.threshold, tuple):
                ext = self.external_lists.get(rule.list_name or "")
                resource = ext.threshold if ext is not None and isinstance(ext.threshold, str) \
                    else "POOL_CAPACITIES"
                if resource.upper() != "POOL_CAPACITIES":
                    raise self.inv.fail(f"[E] THRESHOLD resource class {resource} of list "
                                        f"'{rule.list_name}' is not supported by the emulated "
                                        "cluster (only POOL_CAPACITIES).", 22)

    def _needs_occupancy(self) -> bool:
        for rule in self.policy.rules:
            if rule.kind not in SELECTING:
                continue
            if isinstance(rule.threshold, tuple) or rule.limit is not None:
                return True
            if rule.to_pool in self.group_pools or rule.from_pool in self.group_pools:
                return True
        return False

    def _occupancy(self) -> choosing.Occupancy:
        from gpfskit.emulator.applypolicy import choosing

        used: dict[str, float] = {}
        total: dict[str, float] = {}
        for pool in capacity.figures(self.inv.root, self.inv.db, self.fs):
            disks = pool.data_disks
            size = sum(d.size_kb for d in disks)
            free = sum(d.free_kb for d in disks)
            total[pool.name] = float(size)
            used[pool.name] = float(size - free)
        occupancy = choosing.Occupancy(used, total, self.group_pools)
        self._utilization(messages.CURRENT_UTILIZATION, occupancy)
        return occupancy

    def _utilization(self, title: str, occupancy: choosing.Occupancy) -> None:
        if self.level >= 1:
            rows = [(name, occupancy.used[name], occupancy.total[name])
                    for name in occupancy.total]
            for line in messages.utilization(title, rows):
                self.say(line)

    # The run ---------------------------------------------------------------------------------
    def run(self) -> None:
        opts = self.opts
        selecting = self._selecting()
        self._check_scripts()
        self._check_snapshot()
        self._check_thresholds()
        if not selecting:
            self.info(f"[W] The policy ({self.source}) has no MIGRATE, DELETE, LIST or EXCLUDE "
                      "rules: nothing to do.")
            return
        with _single_instance(self.inv, self.fs["name"], opts.single_instance):
            workdir = tempfile.mkdtemp(prefix="mmapplypolicy.",
                                       dir=opts.global_dir or opts.local_dir)
            cleanup = [steps.Scratch(workdir)]
            if opts.action == "yes":
                cleanup.append(steps.GuardFlags(self.target.tree))
            with journal.running_job(self.inv.root, self.inv.argv, *cleanup):
                self._run(workdir)

    def _plans(self, occupancy: choosing.Occupancy | None, workdir: str
               ) -> tuple[list[Plan], list[Group]]:
        found: list[Plan] = []
        migrate = Group("migrate", False)
        lists: dict[str, Group] = {}
        percents = occupancy.percents() if occupancy is not None else {}
        for index, rule in enumerate(self.policy.rules):
            if rule.kind not in SELECTING:
                continue
            plan = Plan(index, rule)
            when = when_is_true(rule, self.ctx)
            if when is False:
                plan.active = False
            if rule.from_pool is not None:
                plan.pool_members = tuple(m for m, _ in self.group_pools[rule.from_pool]) \
                    if rule.from_pool in self.group_pools else (rule.from_pool,)
            if isinstance(rule.threshold, tuple) and occupancy is not None:
                high = float(rule.threshold[0])
                if rule.from_pool is not None:
                    if percents.get(rule.from_pool, 0.0) < high:
                        plan.active = False
                else:
                    plan.threshold_pools = frozenset(
                        p for p in self.pools if percents.get(p, 0.0) >= high)
            if rule.kind is RuleKind.LIST:
                group = lists.get(rule.list_name or "")
                if group is None:
                    group = lists[rule.list_name or ""] = Group(rule.list_name or "", True)
                    group.external = self.external_lists.get(group.key)
                    group.escape = group.external.escape if group.external else None
            elif rule.kind is RuleKind.EXCLUDE:
                group = None
            else:
                group = migrate
            plan.group = group
            if group is not None:
                plan.position = len(group.plans)
                group.plans.append(plan)
            found.append(plan)
        groups = ([migrate] if migrate.plans else []) + list(lists.values())
        for number, group in enumerate(groups):
            rules = [p.rule for p in group.plans]
            group.streaming = group.is_list and not self.opts.reevaluate and all(
                r.weight is None and not isinstance(r.threshold, tuple) and r.action is None
                for r in rules) and not (group.external is not None
                                         and group.external.size is not None)
            group.stream_path = os.path.join(workdir, f"stream.{number}")
            group.spill_path = os.path.join(workdir, f"spill.{number}.arrow")
            extra: set[str] = set()
            for r in rules:
                if r.action is not None:
                    extra |= referenced_attributes(r.action)
            extra -= {"INODE", "GENERATION", "PATH_NAME", "SHOW", "XATTRS"}
            group.extra_columns = tuple(sorted(extra))
        return found, groups

    def _run(self, workdir: str) -> None:
        """The three phases of a run: evaluate the rules over every file, choose among the
        candidates, then act on the chosen files (or only list them)."""
        # Measuring pool usage walks the tree here: only when rules need it, or at -L 2 and
        # up for the utilization tables.
        needed = self._needs_occupancy()
        measured = self._occupancy() if needed or self.level >= 2 else None
        self.info(f"[I] Loaded policy rules from {self.source}.")
        self.info("[I] Evaluating policy rules with CURRENT_TIMESTAMP = "
                  f"{messages.stamp(self.opts.now)}")
        evaluation = self._evaluate(workdir, measured if needed else None)
        choices = self._choose(evaluation, measured)
        self._execute(evaluation, choices, workdir)

    def _evaluate(self, workdir: str, occupancy: choosing.Occupancy | None) -> Evaluation:
        """Phase 1: scan the tree and evaluate the rules; the plans count their hits and the
        groups hold their candidates."""
        opts, target = self.opts, self.target
        plans, groups = self._plans(occupancy, workdir)
        lean = direct.applies(plans, groups, self.ctx, level=self.level, action=opts.action,
                              maxdepth=opts.maxdepth)
        if lean:
            evaluator: direct.DirectLister | phases.Evaluator = direct.DirectLister(
                plans=plans, groups=groups, ctx=self.ctx, snap_id=target.snap_id,
                write_lists=opts.action != "test")
        else:
            from gpfskit.emulator.applypolicy import phases  # loads NumPy and pyarrow

            evaluator = phases.Evaluator(
                plans=plans, groups=groups, ctx=self.ctx, placement_rules=self.placement,
                pool_names=self.pools, level=self.level, say=self.say,
                snap_id=target.snap_id, workdir=workdir, write_lists=opts.action != "test",
                maxdepth=opts.maxdepth, visible=target.visible,
                occupancy=occupancy.percents() if occupancy is not None else None)
        if self.level >= 5:
            self.say(messages.attributes_header())
        skip = set(target.exclude)
        for directory in (workdir, opts.local_dir, opts.global_dir):
            rel = targets.relative(os.path.realpath(directory), os.path.realpath(target.tree)) \
                if directory else None
            if rel:
                skip.add(rel)
        try:
            try:
                stats = evaluator.run(target.tree, visible=target.visible,
                                      junctions=target.junctions,
                                      independent=target.independent, skip=skip,
                                      workers=opts.scan_workers)
            finally:
                for group in groups:
                    group.close()
        except EvaluationFailed as exc:
            raise self.inv.fail(f"[E] {exc}", 22) from None
        except OSError as exc:
            raise self.inv.fail(f"[E] Cannot scan {target.visible}: {exc}", 1) from None
        self.info(messages.directories_scan(stats.files, stats.directories, stats.others,
                                            stats.problems))
        for sample in stats.error_samples[:20]:
            self.inv.warn(f"[W] {sample}")
        self.info(messages.evaluation(stats.files))
        if not lean:
            import pyarrow as pa

            pa.default_memory_pool().release_unused()
        return Evaluation(plans, groups, occupancy, evaluator.no_rule, lean)

    def _choose(self, evaluation: Evaluation, measured: choosing.Occupancy | None
                ) -> dict[str, choosing.Choice]:
        """Phase 2: choose among each weighed group's candidates (streaming lists need no
        choice) and report what every rule matched and chose, and (``measured``: the pool
        usage at the start) the pool usage predicted once they are acted on."""
        external = set(self.external_pools)
        choices = {}
        for group in evaluation.groups:
            if not group.streaming:
                from gpfskit.emulator.applypolicy import choosing

                choices[group.key] = choosing.choose(
                    group, algorithm=self.opts.choice, pool_names=self.pools,
                    occupancy=evaluation.occupancy, external=external)
        self.info(messages.choosing(sum(p.hits for p in evaluation.plans if not p.excludes)))
        if self.level >= 1:
            for line in messages.summary([
                    (p.number, p.hits, p.kb_hit, p.chosen, p.kb_chosen, 0,
                     messages.rule_summary_text(p.rule)) for p in evaluation.plans]):
                self.say(line)
            if self.level >= 6:
                self.say(f"[I] Files with no applicable rule: {evaluation.no_rule}.")
        if measured is not None:
            from gpfskit.emulator.applypolicy import choosing

            self._utilization(messages.PREDICTED_UTILIZATION, choosing.predicted(
                measured, evaluation.groups, choices, self.pools, external))
        return choices

    def _execute(self, evaluation: Evaluation, choices: dict[str, choosing.Choice],
                 workdir: str) -> None:
        """Phase 3: write the chosen files into work lists and act on them (``-I yes``),
        keep the lists (``defer``, ``prepare``, ``-f``) or only count them (``test``)."""
        opts, target = self.opts, self.target
        outcome = Outcome()
        if evaluation.lean:  # streamed lists, only kept: nothing to materialize or execute
            executor: WorkLists = WorkLists(opts.action, workdir)
        else:
            from gpfskit.emulator.applypolicy.execution import Executor

            executor = Executor(
                action=opts.action, level=self.level, workdir=workdir, bucket=opts.bucket,
                threads=opts.threads, snap_id=target.snap_id,
                ctx=self._action_context(outcome), say=self.say,
                external_pools=self.external_pools,
                test_argument=targets.test_argument(target),
                recheck=self._recheck if opts.reevaluate else None, outcome=outcome)
        try:
            for group in evaluation.groups:
                if group.streaming:
                    if opts.action != "test":
                        executor.adopt_stream(group)
                else:
                    executor.materialize(group, choices[group.key])
            executor.close()
            kept: list[str] = []
            if opts.action in ("defer", "prepare"):
                kept = executor.keep(self._prefix())
            elif opts.action == "yes":
                lists_only = {k for k, wl in executor.worklists.items()
                              if k[0] == "list" and (wl.rule is None or not wl.rule.exec_)}
                if opts.prefix is not None:
                    lists_only |= {k for k in executor.worklists if k[0] == "list"}
                if lists_only:
                    kept = executor.keep(self._prefix(), lists_only)
                executor.execute()
        finally:
            executor.close()
        for path in kept:
            self.info(f"[I] File list kept: {messages.show_path(path)}")
        self.info(messages.execution(outcome.dispatched))
        for line in outcome.lines:
            self.say(line)
        if opts.action == "yes":
            self.info(f"[I] {outcome.migrated} files migrated, {outcome.deleted} deleted, "
                      f"{outcome.scripted} processed by interface scripts; {outcome.skipped} "
                      f"skipped (changed since the scan), {outcome.errors} errors.")
        for problem in outcome.problems:
            self.inv.warn(problem)
        if outcome.errors:
            raise CommandError(f"{self.inv.name}: [E] Policy execution finished with "
                               f"{outcome.errors} errors.", 1)

    def _prefix(self) -> str:
        if self.opts.prefix is not None:
            return self.opts.prefix
        base = self.opts.global_dir or self.opts.local_dir
        return os.path.join(base, f"mmapplypolicy.{self.fs['name']}.{os.getpid()}")

    def _action_context(self, outcome: Outcome) -> EvalContext:
        def setxattr(record, name: str, value: str) -> None:
            try:
                _write_xattr(record, name, value)
            except OSError as exc:
                outcome.add(errors=1)
                with outcome.lock:
                    outcome.problems.append(
                        f"[E] SetXattr({name}) on "
                        f"{messages.show_path(record.get('PATH_NAME') or b'')} failed: "
                        f"{exc.strerror}.")

        return dataclasses.replace(self.ctx, setxattr=setxattr, actions=[])

    def _recheck(self, plan: phases.Plan, path: bytes, inode: int) -> bool:
        """-e: does the rule still select the file (same inode) right now?"""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if st.st_ino != inode:
            return False
        rule = plan.rule
        names = set(referenced_attributes(rule)) | {"MODE", "POOL_NAME", "FILESET_NAME"}
        names.discard("XATTRS")
        shown = os.fsdecode(path)
        rel = targets.relative(shown, self.target.visible) or ""
        record = placement.file_record(shown, shown, self.target.fileset_of(rel),
                                       frozenset(names))
        if statmod.S_ISDIR(st.st_mode):
            record["POOL_NAME"] = placement.SYSTEM
        else:
            record["POOL_NAME"] = fileattrs.recorded_pool(path) or self.placement.pool_for(
                placement.file_record(shown, shown, record.get("FILESET_NAME"),
                                      self.placement.columns | {"PATH_NAME", "NAME"}),
                self.ctx)
        members = {k: tuple(m for m, _ in v) for k, v in self.group_pools.items()}
        threshold_ok = plan.threshold_pools is None or record["POOL_NAME"] in \
            plan.threshold_pools
        return rule_matches(rule, record, self.ctx, threshold_ok=threshold_ok,
                            group_pools=members)


def _read_xattr(record, name: str) -> bytes | None:
    path = record.get("PATH_NAME") if hasattr(record, "get") else None
    if path is None:
        return None
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def _write_xattr(record, name: str, value: str) -> None:
    path = record.get("PATH_NAME")
    if isinstance(path, str):
        path = path.encode("utf-8", "surrogateescape")
    with fileattrs.writable(path):
        os.setxattr(path, name, value.encode("utf-8", "surrogateescape"), follow_symlinks=False)


def _evaluation_setxattr(record, name: str, value: str) -> None:
    """SetXattr met while evaluating WHERE or SHOW; a file it cannot change is left as is
    (the function still yields TRUE, as its ACTION form reports errors only)."""
    with contextlib.suppress(OSError):
        _write_xattr(record, name, value)


def _read_xattrs(record) -> dict[str, bytes]:
    """Every extended attribute of the record's file that can be read (for GetXattrs)."""
    path = record.get("PATH_NAME") if hasattr(record, "get") else None
    if path is None:
        return {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    values = {}
    for name in names:
        value = _read_xattr(record, name)
        if value is not None:
            values[name] = value
    return values

