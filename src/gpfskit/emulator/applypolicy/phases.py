"""Phase 1: scan the tree and evaluate the rules over each batch, vectorised.

The scan streams bounded RecordBatches holding only the columns the rules reference. For
each batch every rule is evaluated column-at-a-time (``evaluate_mask``; the per-record
evaluator is used by the language module only for the nodes it cannot vectorise), in policy
order, with the product's semantics:

* MIGRATE, DELETE and EXCLUDE rules share one decision per file: the first of them that
  matches decides (EXCLUDE = none of them applies). LIST rules are decided per list name:
  the first LIST rule of that name that matches decides (``LIST 'x' EXCLUDE`` = not in x).
  LIST rules see files that an EXCLUDE rule excluded.
* A rule is tried only when its WHEN is true, the file's pool is its FROM POOL (a group pool
  matches its members), its THRESHOLD high mark is reached (occupancy sampled at job start),
  the file's fileset is in its FOR FILESET list and WHERE is true. Without DIRECTORIES_PLUS
  only regular files are candidates.

Candidates go to their *group*: all MIGRATE/DELETE rules form one group (they compete for
pool space), each list name another. A list group whose rules need no choosing (no WEIGHT,
THRESHOLD, ACTION, SIZE cap) streams its records straight to its list file: no sort, nothing
kept per file. Other groups spill the candidate rows (inode, generation, path, SHOW text and
what ACTION clauses need) to an Arrow file in the work directory and keep per candidate only
(weight, KB, rule, pool) in memory for choosing.
"""

from __future__ import annotations

import grp
import pwd
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpfskit.emulator import fileattrs, placement
from gpfskit.emulator.applypolicy import messages, prefilter
from gpfskit.emulator.applypolicy.plans import EvaluationFailed, Group, Plan
from gpfskit.emulator.placement_vectorized import pool_column
from gpfskit.emulator.scan import TYPES, records, scan
from gpfskit.language import (
    XATTRS_KEY,
    EvalContext,
    PolicyEvalError,
    referenced_attributes,
)
from gpfskit.language.vectorized import evaluate_column, evaluate_mask, show_column

RECORDED_POOL = "GPFSKIT_RECORDED_POOL"   # scan column: the pool recorded on the file
KIND_FILE, KIND_DIR = 0, 1

_DERIVED_INTS = {"FILE_HEAT": 0, "CLONE_DEPTH": 0, "CLONE_IS_PARENT": 0}
_DERIVED_NULL_INTS = ("CLONE_PARENT_INODE", "CLONE_PARENT_FILESETID", "CLONE_PARENT_FILESET_ID",
                      "CLONE_PARENT_IS_SNAP", "CLONE_PARENT_SNAP_ID")


class Evaluator:
    """Runs phase 1 over a scan and fills the plans' and groups' phase-1 results."""

    def __init__(self, *, plans: list[Plan], groups: list[Group], ctx: EvalContext,
                 placement_rules: placement.PlacementHistory, pool_names: list[str], level: int,
                 say: Callable[[str], None], snap_id: int, workdir: str, write_lists: bool,
                 maxdepth: int | None, visible: str, occupancy: Mapping[str, float] | None):
        self.plans = plans
        self.groups = groups
        self.ctx = ctx
        self.placement = placement_rules
        self.pool_names = pool_names
        self.pool_index = pa.array(pool_names, pa.string())
        self.level = level
        self.say = say
        self.snap_id = snap_id
        self.workdir = workdir
        self.write_lists = write_lists
        self.maxdepth = maxdepth
        self.visible_depth = visible.rstrip("/").count("/")
        self.occupancy = occupancy
        self.no_rule = 0
        self.directories_plus = any(p.rule.directories_plus for p in plans if p.active)
        self.needed = self._needed_columns()
        self.prefilter = prefilter.build([p.rule for p in plans if p.active], ctx, level=level)
        self._users: dict[int, str | None] = {}
        self._groups: dict[int, str | None] = {}

    # Columns ----------------------------------------------------------------------------------
    def _needed_columns(self) -> set[str]:
        names: set[str] = {"KB_ALLOCATED"}
        for plan in self.plans:
            if not plan.active:
                continue
            rule = plan.rule
            for expr in rule.expressions():
                names |= referenced_attributes(expr)
            if rule.from_pool is not None or plan.threshold_pools is not None:
                names.add("POOL_NAME")
            if rule.for_fileset is not None:
                names.add("FILESET_NAME")
        for group in self.groups:
            if self.occupancy is not None:
                names.add("POOL_NAME")      # pool accounting while choosing
            for plan in group.plans:
                if plan.rule.action is not None:
                    names |= referenced_attributes(plan.rule.action)
        if self.level >= 5:
            names |= set(messages.L5_ATTRIBUTES)
        if "POOL_NAME" in names:
            names |= self.placement.columns
        if "USER_NAME" in names:
            names.add("USER_ID")
        if "GROUP_NAME" in names:
            names.add("GROUP_ID")
        if self.directories_plus:
            names.add("KIND")
        names.discard(XATTRS_KEY)
        return names

    @property
    def scan_columns(self) -> list[str]:
        return sorted(n for n in self.needed if n in TYPES)

    @property
    def scan_xattrs(self) -> dict[str, str]:
        return {RECORDED_POOL: fileattrs.POOL} if "POOL_NAME" in self.needed else {}

    # Running ------------------------------------------------------------------------------------
    def run(self, tree: str, *, visible: str, junctions: Mapping[str, str],
            independent: set[str], skip: set[str], workers: int) -> Any:
        progress = messages.Progress() if messages.stderr_is_tty() else None
        walk = scan(tree, visible_root=visible, junctions=dict(junctions),
                    independent=sorted(independent), columns=self.scan_columns,
                    directories_plus=self.directories_plus, workers=workers,
                    skip_dirs=sorted(skip), xattrs=self.scan_xattrs,
                    prefilter=self.prefilter, progress=progress, progress_interval=1.0)
        try:
            for batch in walk:
                self.process(batch)
        finally:
            if progress is not None:
                progress.done()
        return walk.stats

    def process(self, batch: pa.RecordBatch) -> None:
        if self.maxdepth is not None:
            batch = self._depth_filter(batch)
        n = batch.num_rows
        if not n:
            return
        batch = self._augment(batch)
        names = batch.schema.names
        kinds = np.asarray(batch.column("KIND")) if "KIND" in names else None
        regular = kinds == KIND_FILE if kinds is not None else None
        open_migrate = np.ones(n, bool)
        open_lists: dict[str, np.ndarray] = {}
        matched = np.zeros(n, bool) if self.level >= 6 else None
        for plan in self.plans:
            if not plan.active:
                continue
            rule = plan.rule
            if plan.group is not None and plan.group.is_list:
                still = open_lists.setdefault(plan.group.key, np.ones(n, bool))
            else:
                still = open_migrate
            base = still & regular if regular is not None and not rule.directories_plus \
                else still.copy()
            if not base.any():
                continue
            mask = self._mask(plan, batch, base)
            if not mask.any():
                continue
            still &= ~mask
            if matched is not None:
                matched |= mask
            index = np.flatnonzero(mask)
            if plan.excludes:
                sub = batch.take(pa.array(index))
                plan.hits += len(index)
                plan.kb_hit += int(np.asarray(sub.column("KB_ALLOCATED")).sum())
                if self.level >= 4:
                    for path, attrs in zip(sub.column("PATH_NAME").to_pylist(),
                                           self._attr_texts(sub)):
                        self.say(messages.excluded_line(path, plan.number, rule, attrs))
                continue
            self._add(plan, batch, index)
        if matched is not None:
            rest = np.flatnonzero(~matched if regular is None else (~matched & regular))
            self.no_rule += len(rest)
            if len(rest):
                sub = batch.take(pa.array(rest))
                for path, attrs in zip(sub.column("PATH_NAME").to_pylist(),
                                       self._attr_texts(sub)):
                    self.say(messages.no_rule_line(path, attrs))

    def _depth_filter(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        slashes = pc.count_substring(batch.column("PATH_NAME"), pattern="/")
        depth = np.asarray(slashes) - self.visible_depth - 1
        keep = depth <= self.maxdepth
        return batch if keep.all() else batch.filter(pa.array(keep))

    # Evaluation -------------------------------------------------------------------------------
    def _mask(self, plan: Plan, batch: pa.RecordBatch, base: np.ndarray) -> np.ndarray:
        rule = plan.rule
        n = batch.num_rows
        rows = None
        view = batch
        dense = base.sum() * 4 >= n
        if not dense:
            rows = np.flatnonzero(base)
            view = batch.take(pa.array(rows))
        mask = np.ones(view.num_rows, bool) if rows is not None else base.copy()
        try:
            if rule.when is not None and referenced_attributes(rule.when):
                mask &= evaluate_mask(rule.when, view, self.ctx)
            if plan.pool_members is not None:
                mask &= _isin(view.column("POOL_NAME"), plan.pool_members)
            if plan.threshold_pools is not None:
                mask &= _isin(view.column("POOL_NAME"), tuple(plan.threshold_pools))
            if rule.for_fileset is not None:
                mask &= _isin(view.column("FILESET_NAME"), rule.for_fileset)
            if rule.where is not None and mask.any():
                mask &= evaluate_mask(rule.where, view, self.ctx)
        except PolicyEvalError as exc:
            raise EvaluationFailed(f"Rule {plan.label}: {exc}") from None
        if rows is None:
            return mask
        full = np.zeros(n, bool)
        full[rows[mask]] = True
        return full

    def _column(self, expr: Any, sub: pa.RecordBatch, plan: Plan) -> pa.Array:
        try:
            return evaluate_column(expr, sub, self.ctx)
        except PolicyEvalError as exc:
            raise EvaluationFailed(f"Rule {plan.label}: {exc}") from None

    def _add(self, plan: Plan, batch: pa.RecordBatch, index: np.ndarray) -> None:
        rule = plan.rule
        group = plan.group
        assert group is not None
        sub = batch if len(index) == batch.num_rows else batch.take(pa.array(index))
        count = sub.num_rows
        if rule.size is not None:
            sizes = _int_values(self._column(rule.size, sub, plan))
        else:
            sizes = np.asarray(sub.column("KB_ALLOCATED"), np.int64)
        if rule.weight is not None:
            weights = _float_values(self._column(rule.weight, sub, plan))
        else:
            weights = np.full(count, np.inf)
        show = None
        if rule.show is not None:
            try:
                show = show_column(rule, sub, self.ctx)
            except PolicyEvalError as exc:
                raise EvaluationFailed(f"Rule {plan.label}: {exc}") from None
        kb = int(sizes.sum())
        plan.hits += count
        plan.kb_hit += kb
        paths = None
        if self.level >= 2:
            paths = sub.column("PATH_NAME").to_pylist()
            shows = _texts(show, count)
        if self.level >= 3:
            attrs = self._attr_texts(sub)
            for k in range(count):
                self.say(messages.candidate_line(
                    paths[k], plan.number, rule,
                    None if rule.weight is None else float(weights[k]), shows[k], attrs[k]))
        if group.streaming:
            plan.chosen += count
            plan.kb_chosen += kb
            if self.level >= 2:
                for k in range(count):
                    self.say(messages.chosen_line(paths[k], rule, None, shows[k]))
            if self.write_lists:
                if group.stream is None:
                    group.stream = open(group.stream_path, "wb")  # noqa: SIM115
                records.write_records(group.stream, sub, snap_id=self.snap_id, show=show,
                                      escape=group.escape)
            return
        self._spill(group, sub, show)
        group.weights.append(weights)
        group.sizes.append(sizes)
        group.rules.append(np.full(count, plan.position, np.int32))
        if "POOL_NAME" in sub.schema.names:
            found = pc.index_in(sub.column("POOL_NAME"), value_set=self.pool_index)
            group.pools.append(np.asarray(pc.fill_null(found, -1), np.int32))
        else:
            group.pools.append(np.full(count, -1, np.int32))
        group.rows += count

    def _spill(self, group: Group, sub: pa.RecordBatch, show: pa.Array | None) -> None:
        n = sub.num_rows
        if show is None:
            show_bin = pa.nulls(n, pa.large_binary())
        else:
            show_bin = show.cast(pa.large_binary()) if show.type != pa.large_binary() else show
        arrays = [sub.column("INODE"), sub.column("GENERATION"),
                  sub.column("PATH_NAME").cast(pa.large_binary()), show_bin]
        names = ["INODE", "GENERATION", "PATH_NAME", "SHOW"]
        for name in group.extra_columns:
            arrays.append(sub.column(name))
            names.append(name)
        spill_batch = pa.RecordBatch.from_arrays(arrays, names=names)
        if group.spill is None:
            group.spill = pa.ipc.new_file(group.spill_path, spill_batch.schema)
        group.spill.write_batch(spill_batch)

    # Derived columns -------------------------------------------------------------------------
    def _augment(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        names = batch.schema.names
        n = batch.num_rows
        extra: dict[str, pa.Array] = {}
        if "POOL_NAME" in self.needed:
            recorded = batch.column(RECORDED_POOL) if RECORDED_POOL in names else None
            directories = None
            if "KIND" in names:
                directories = np.asarray(batch.column("KIND")) == KIND_DIR
            extra["POOL_NAME"] = pool_column(
                self.placement, batch, self.ctx, recorded=recorded, directories=directories)
        if "USER_NAME" in self.needed:
            extra["USER_NAME"] = self._names(batch.column("USER_ID"), self._users, _user)
        if "GROUP_NAME" in self.needed:
            extra["GROUP_NAME"] = self._names(batch.column("GROUP_ID"), self._groups, _group)
        for name, value in _DERIVED_INTS.items():
            if name in self.needed:
                extra[name] = pa.array(np.full(n, value, np.int64))
        for name in _DERIVED_NULL_INTS:
            if name in self.needed:
                extra[name] = pa.nulls(n, pa.int64())
        if "EXPIRATION_TIME" in self.needed:
            extra["EXPIRATION_TIME"] = pa.nulls(n, pa.float64())
        if not extra:
            return batch
        for name, array in extra.items():
            if name in batch.schema.names:
                batch = batch.set_column(batch.schema.get_field_index(name), name, array)
            else:
                batch = batch.append_column(name, array)
        return batch

    @staticmethod
    def _names(ids: pa.Array, cache: dict[int, str | None], lookup: Callable) -> pa.Array:
        values = np.asarray(ids)
        unique, inverse = np.unique(values, return_inverse=True)
        texts = []
        for value in unique.tolist():
            if value not in cache:
                cache[value] = lookup(value)
            texts.append(cache[value])
        return pa.array(texts, pa.string()).take(pa.array(inverse.astype(np.int32)))

    def _attr_texts(self, sub: pa.RecordBatch) -> list[str | None]:
        if self.level < 5:
            return [None] * sub.num_rows
        columns = []
        for name in messages.L5_ATTRIBUTES:
            values = sub.column(name).to_pylist() if name in sub.schema.names \
                else [None] * sub.num_rows
            if name.endswith("_TIME"):
                values = [messages.stamp(v) for v in values]
            columns.append(["NULL" if v is None else str(v) for v in values])
        return ["[" + " ".join(row) + "]" for row in zip(*columns)]


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _isin(column: pa.Array, values: tuple[str, ...]) -> np.ndarray:
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        value_set = pa.array([v.encode() for v in values], column.type)
    else:
        value_set = pa.array(list(values), pa.string()).cast(column.type)
    return np.asarray(pc.fill_null(pc.is_in(column, value_set=value_set), False))


def _float_values(array: pa.Array) -> np.ndarray:
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or \
            pa.types.is_boolean(array.type):
        values = pc.fill_null(array.cast(pa.float64()), 0.0)
        return np.asarray(values, np.float64)
    out = []
    for value in array.to_pylist():
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            out.append(0.0)
    return np.asarray(out, np.float64)


def _int_values(array: pa.Array) -> np.ndarray:
    return np.maximum(np.round(_float_values(array)), 0).astype(np.int64)


def _texts(show: pa.Array | None, count: int) -> list[str | None]:
    if show is None:
        return [None] * count
    values = show.to_pylist()
    return [v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v
            for v in values]
