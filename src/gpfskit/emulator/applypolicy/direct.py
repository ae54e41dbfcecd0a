"""Phase 1 without Arrow: the lister settles every rule, the list is written as it lists.

The usual phase 1 (``phases``) turns each lister call into an Arrow batch and evaluates the
rules over it with NumPy and pyarrow, which take a large share of a short run's time just to
import. Many runs need none of it: a LIST of the files of some owner, size and age is
decided by the scan prefilter alone (``prefilter.settles``). Then the rows the lister returns
are the files the rules select, and their file-list records are written straight from the
lister's buffers (``_walk.format_records``, C).

``applies`` says when that is so, and ``DirectLister`` runs phase 1 then, filling the same
plans, groups and stream files as ``phases.Evaluator`` (the tests compare the two paths):

* every rule that takes part is a LIST rule (``LIST ... EXCLUDE`` too) of a streamed group
  (no WEIGHT, THRESHOLD, SIZE, ACTION), without SHOW, FROM POOL, FOR FILESET, a WHEN that
  reads file attributes, or DIRECTORIES_PLUS, and its WHERE is settled by the lister;
* the run writes no per-file lines (``-L`` at most 1) and has no ``--maxdepth``;
* the lists are only kept (``-I defer``, ``prepare`` or ``test``: no script runs);
* the C lister is built.

With one such rule every row is selected as it is; with several, the row's values are
compared with each rule's terms in policy order (what the lister compared already), which
takes a Python loop over the rows that passed, not over the tree.
"""

from __future__ import annotations

import array
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gpfskit.emulator.applypolicy import messages, prefilter
from gpfskit.emulator.applypolicy.plans import Group, Plan
from gpfskit.emulator.scan import walk
from gpfskit.emulator.scan.escape import escape_table
from gpfskit.language import EvalContext, RuleKind, referenced_attributes

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
_KEEPING = ("defer", "prepare", "test")


def applies(plans: Sequence[Plan], groups: Sequence[Group], ctx: EvalContext, *, level: int,
            action: str, maxdepth: int | None) -> bool:
    """Whether phase 1 of this job can run without Arrow (see the module docstring)."""
    if not walk.HAVE_C_EXTENSION or level > 1 or maxdepth is not None \
            or action not in _KEEPING:
        return False
    if not all(group.is_list and group.streaming for group in groups):
        return False
    for plan in plans:
        if not plan.active:
            continue
        rule = plan.rule
        if rule.kind is not RuleKind.LIST or plan.group is None or rule.show is not None \
                or rule.from_pool is not None or rule.for_fileset is not None \
                or rule.directories_plus or plan.threshold_pools is not None:
            return False
        if rule.when is not None and referenced_attributes(rule.when):
            return False
        if not prefilter.settles(rule.where, ctx):
            return False
    return prefilter.build([p.rule for p in plans if p.active], ctx, level=0) is not None


class DirectLister:
    """Phase 1 for a job ``applies`` accepts: same counts, same stream files."""

    def __init__(self, *, plans: list[Plan], groups: list[Group], ctx: EvalContext,
                 snap_id: int, write_lists: bool):
        self.plans = [p for p in plans if p.active]
        self.groups = groups
        self.ctx = ctx
        self.snap_id = snap_id
        self.write_lists = write_lists
        self.no_rule = 0
        self.prefilter = prefilter.build([p.rule for p in self.plans], ctx, level=0)
        assert self.prefilter is not None, "applies() said no"
        self._attributes = {"INODE", "GENERATION", "KB_ALLOCATED"}
        # each active plan's comparisons (all its WHERE), in the lister's column names
        self._terms = []
        for terms in self.prefilter:
            self._attributes |= {attribute for attribute, _, _ in terms}
            self._terms.append([(walk.PREFILTER_ATTRIBUTES[attribute], _COMPARE[op], value)
                                for attribute, op, value in terms])
        self._single = len(self.plans) == 1 and not self.plans[0].excludes
        self._escapes = {id(g): escape_table(g.escape) for g in groups}

    def run(self, tree: str, *, visible: str, junctions: Mapping[str, str],
            independent: set[str], skip: set[str], workers: int) -> walk.ScanStats:
        progress = messages.Progress() if messages.stderr_is_tty() else None
        listing = walk.Walk(tree, convert=self._convert, visible_root=visible,
                            junctions=dict(junctions), independent=sorted(independent),
                            numeric=walk.lister_columns(self._attributes), workers=workers,
                            skip_dirs=sorted(skip), prefilter=self.prefilter,
                            progress=progress, progress_interval=1.0)
        try:
            for chosen in listing:
                self._record(chosen)
        finally:
            if progress is not None:
                progress.done()
        return listing.stats

    # In the lister threads: what each row is chosen for ------------------------------------
    def _convert(self, result: dict[str, Any], items: Any, fixes: Any
                 ) -> list[tuple[Plan, bytes | memoryview | None, int, int]]:
        columns = result["columns"]
        n = result["n"]
        kb = memoryview(columns["kb"]).cast("q")
        if self._single:
            plan = self.plans[0]
            return [(plan, self._format(plan.group, columns["ino"], columns["gen"],
                                        columns["paths"], columns["path_offsets"]),
                     n, sum(kb))]
        values = {name: memoryview(columns[name]).cast("d" if name in _TIMES else "q")
                  for name in {column for terms in self._terms for column, _, _ in terms}}
        chosen: dict[int, list[int]] = {}
        for row in range(n):
            open_groups: set[str] = set()
            for k, (plan, terms) in enumerate(zip(self.plans, self._terms)):
                key = plan.group.key
                if key in open_groups:
                    continue
                if all(compare(values[column][row], value)
                       for column, compare, value in terms):
                    chosen.setdefault(k, []).append(row)
                    open_groups.add(key)
        return [self._chosen(self.plans[k], rows, columns, kb) for k, rows in chosen.items()]

    def _chosen(self, plan: Plan, rows: list[int], columns: dict[str, Any], kb: memoryview
                ) -> tuple[Plan, bytes | memoryview | None, int, int]:
        total = sum(kb[row] for row in rows)
        if plan.excludes:
            return plan, None, len(rows), total
        ino = memoryview(columns["ino"]).cast("q")
        gen = memoryview(columns["gen"]).cast("q")
        offsets = memoryview(columns["path_offsets"]).cast("i")
        paths = memoryview(columns["paths"])
        picked = array.array("i", [0])
        data = []
        for row in rows:
            data.append(paths[offsets[row]:offsets[row + 1]])
            picked.append(picked[-1] + offsets[row + 1] - offsets[row])
        return plan, self._format(plan.group, array.array("q", (ino[r] for r in rows)),
                                  array.array("q", (gen[r] for r in rows)), b"".join(data),
                                  picked), len(rows), total

    def _format(self, group: Group | None, ino: Any, gen: Any, paths: Any, offsets: Any
                ) -> bytes | memoryview | None:
        if not self.write_lists or group is None:
            return None
        from gpfskit.emulator.scan import _walk  # built: ``applies`` checked

        table, mode = self._escapes[id(group)]
        return memoryview(_walk.format_records(ino, gen, self.snap_id, paths, offsets,
                                              None, None, None, table, mode))

    # In the iterating thread: counts and list files ----------------------------------------
    def _record(self, chosen: list[tuple[Plan, bytes | memoryview | None, int, int]]) -> None:
        for plan, data, count, kb in chosen:
            plan.hits += count
            plan.kb_hit += kb
            if plan.excludes:
                continue
            plan.chosen += count
            plan.kb_chosen += kb
            group = plan.group
            if data is not None and group is not None:
                if group.stream is None:
                    group.stream = open(group.stream_path, "wb")  # noqa: SIM115
                group.stream.write(data)


_TIMES = frozenset(walk.PREFILTER_ATTRIBUTES[name] for name in
                   ("ACCESS_TIME", "MODIFICATION_TIME", "CHANGE_TIME", "CREATION_TIME"))
