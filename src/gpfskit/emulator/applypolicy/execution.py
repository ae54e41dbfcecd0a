"""Phase 3: act on the chosen files.

The chosen rows of each group are read back from its spill file in chosen order, a chunk at
a time, and written as file-list records (reference §4.5) into one *work list* per
destination: a list name, an external pool (MIGRATE or PREMIGRATE), an internal target pool,
or deletion. Streamed list groups already have their work list. Then, with ``-I yes``:

* ``ACTION`` clauses of the chosen files run first (while reading the rows back), then
* lists handed to an EXTERNAL LIST script and migrations to an EXTERNAL POOL script: the
  script is called once with ``TEST <target>`` (a non-zero exit code: it is not used, its
  files count as errors), then once per bucket of at most ``-B`` records (and at most the
  rule's ``SIZE`` KB) as ``script LIST|MIGRATE|PREMIGRATE <bucket file> [OPTS]``, up to
  ``-m`` calls at once. Scripts run as real subprocesses from an argv list (no shell);
  bucket files live in the job's work directory and are removed afterwards;
* internal migrations record the new pool on each file (and REPLICATE its replication);
* deletions remove the files (``DIRECTORIES_PLUS``: empty directories too, deepest first).

A file is acted on only while its path still names the inode the scan saw. ``-e`` also
re-evaluates the rule just before. With ``-I defer`` (or ``prepare``) nothing is acted on
and the work lists are kept as ``PREFIX.list.<name>``, ``PREFIX.migrate.<pool>``,
``PREFIX.premigrate.<pool>`` and ``PREFIX.delete``; ``-f PREFIX`` also keeps them with
``-I yes``, and lists of ``EXEC ''`` rules (or of list names without an EXTERNAL LIST rule)
are always kept. ``-I test`` writes and changes nothing.
"""

from __future__ import annotations

import mmap
import os
import stat as statmod
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from gpfskit.emulator import fileattrs
from gpfskit.emulator.applypolicy import messages
from gpfskit.emulator.applypolicy.choosing import Choice
from gpfskit.emulator.applypolicy.plans import Group, Plan
from gpfskit.emulator.applypolicy.worklists import Outcome, WorkList, WorkLists
from gpfskit.emulator.scan import records
from gpfskit.language import (
    EvalContext,
    PolicyEvalError,
    Rule,
    RuleKind,
    evaluate,
    referenced_attributes,
)
from gpfskit.language.vectorized import batch_to_records

CHUNK = 16384


def spilled_rows(group: Group, order: np.ndarray) -> Iterator[tuple[np.ndarray, pa.Table]]:
    """The chosen rows of a spilled group, in ``order``, a chunk at a time.

    The spill file is memory-mapped; each chunk takes its rows batch by batch (no batch is
    copied whole) and then drops the mapped pages it touched, so memory stays bounded by
    the chunk, whatever the order.
    """
    if group.spill_path is None or not len(order) or not os.path.exists(group.spill_path):
        return
    with open(group.spill_path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    reader = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(mapped)))
    batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    schema = reader.schema
    try:
        for first in range(0, len(order), CHUNK):
            index = order[first:first + CHUNK]
            yield index, _take(batches, starts, schema, index)
            if hasattr(mmap, "MADV_DONTNEED"):
                mapped.madvise(mmap.MADV_DONTNEED)
    finally:
        del batches, reader
        try:
            mapped.close()
        except BufferError:  # a buffer still points into it: the collector closes it
            pass


def _take(batches: list[pa.RecordBatch], starts: np.ndarray, schema: pa.Schema,
          index: np.ndarray) -> pa.Table:
    which = np.searchsorted(starts, index, side="right") - 1
    by_batch = np.argsort(which, kind="stable")
    grouped = which[by_batch]
    bounds = np.flatnonzero(np.diff(grouped)) + 1
    parts = []
    for piece in np.split(by_batch, bounds):
        if not len(piece):
            continue
        b = int(which[piece[0]])
        parts.append(batches[b].take(pa.array(index[piece] - starts[b])))
    gathered = pa.Table.from_batches(parts, schema=schema).combine_chunks()
    position = np.empty(len(index), np.int64)
    position[by_batch] = np.arange(len(index))
    return gathered.take(pa.array(position))


class Executor(WorkLists):
    def __init__(self, *, action: str, level: int, workdir: str, bucket: int, threads: int,
                 snap_id: int, ctx: EvalContext, say: Callable[[str], None],
                 external_pools: dict[str, Rule], test_argument: str,
                 recheck: Callable[[Plan, bytes, int], bool] | None,
                 outcome: Outcome):
        super().__init__(action, workdir)
        self.level = level
        self.bucket = bucket
        self.threads = threads
        self.snap_id = snap_id
        self.ctx = ctx
        self.say = say
        self.external_pools = external_pools
        self.test_argument = test_argument
        self.recheck = recheck
        self.outcome = outcome
        self._tested: dict[tuple, bool] = {}

    def materialize(self, group: Group, choice: Choice) -> None:
        """Read the chosen rows back and write them into the work lists."""
        weights, sizes, rules, _ = group.arrays()
        need_rows = self.action != "test" or self.level >= 2
        if not need_rows:
            return
        offset = 0
        for index, rows in spilled_rows(group, choice.order):
            rule_ids = rules[index]
            chunk_sizes = sizes[index]
            premig = choice.premigrate[offset:offset + len(index)]
            targets = choice.targets[offset:offset + len(index)] if choice.targets else None
            offset += len(index)
            keep = np.ones(len(index), bool)
            if self.recheck is not None and self.action == "yes":
                paths = rows.column("PATH_NAME").to_pylist()
                inodes = rows.column("INODE").to_pylist()
                for k in range(len(index)):
                    if not self.recheck(group.plans[rule_ids[k]], paths[k], inodes[k]):
                        keep[k] = False
                skipped = int((~keep).sum())
                if skipped:
                    self.outcome.add(skipped=skipped)
                    rows = rows.filter(pa.array(keep))
                    rule_ids, chunk_sizes, premig = rule_ids[keep], chunk_sizes[keep], premig[keep]
                    index = index[keep]
                    if targets is not None:
                        targets = [t for t, k in zip(targets, keep) if k]
            if self.level >= 2:
                paths = rows.column("PATH_NAME").to_pylist()
                shows = rows.column("SHOW").to_pylist()
                for k in range(rows.num_rows):
                    plan = group.plans[rule_ids[k]]
                    weight = None if plan.rule.weight is None else float(weights[index[k]])
                    show = shows[k].decode("utf-8", "backslashreplace") if shows[k] else None
                    self.say(messages.chosen_line(paths[k], plan.rule, weight, show,
                                                  bool(premig[k])))
            if self.action == "test":
                continue
            if self.action == "yes":
                self._actions(group, rows, rule_ids)
            self._write(group, rows, rule_ids, chunk_sizes, premig, targets)

    def _actions(self, group: Group, rows: pa.Table, rule_ids: np.ndarray) -> None:
        for position, plan in enumerate(group.plans):
            if plan.rule.action is None:
                continue
            mask = rule_ids == position
            if not mask.any():
                continue
            sub = rows.filter(pa.array(mask))
            names = (set(referenced_attributes(plan.rule.action)) | {"PATH_NAME", "INODE"}) \
                & set(sub.schema.names)
            try:
                for record in batch_to_records(sub, sorted(names)):
                    evaluate(plan.rule.action, record, self.ctx)
            except PolicyEvalError as exc:
                self.outcome.problems.append(f"[E] ACTION of rule {plan.label} failed: {exc}")
                self.outcome.add(errors=int(mask.sum()))

    def _write(self, group: Group, rows: pa.Table, rule_ids: np.ndarray, sizes: np.ndarray,
               premig: np.ndarray, targets: list[str | None] | None) -> None:
        shows = rows.column("SHOW")
        if group.is_list:
            wl = self._worklist(("list", group.key), group.escape, group.external)
            data = records.format_records(rows, snap_id=self.snap_id, show=shows,
                                          escape=group.escape)
            capped = wl.rule is not None and wl.rule.size is not None
            wl.write(data, rows.num_rows, sizes if capped else None)
            return
        keys: list[tuple] = []
        for k in range(rows.num_rows):
            plan = group.plans[rule_ids[k]]
            rule = plan.rule
            if rule.kind is RuleKind.DELETE:
                keys.append(("delete",))
                continue
            to = targets[k] if targets is not None and targets[k] is not None else rule.to_pool
            if to in self.external_pools:
                keys.append(("external", to, "PREMIGRATE" if premig[k] else "MIGRATE"))
            else:
                replicate = int(rule.replicate) if rule.replicate is not None else None
                keys.append(("migrate", to, replicate))
        for key in dict.fromkeys(keys):
            mask = np.fromiter((k == key for k in keys), bool, len(keys))
            sub = rows.filter(pa.array(mask))
            if key[0] == "external":
                ext = self.external_pools[key[1]]
                wl = self._worklist(key, ext.escape, ext)
                escape = ext.escape
            else:
                wl = self._worklist(key)
                wl.replicate = key[2] if key[0] == "migrate" else None
                escape = None
            data = records.format_records(sub, snap_id=self.snap_id, show=sub.column("SHOW"),
                                          escape=escape)
            capped = wl.rule is not None and wl.rule.size is not None
            wl.write(data, sub.num_rows, sizes[mask] if capped else None)

    # Executing ---------------------------------------------------------------------------------
    def execute(self) -> None:
        self.close()
        order = sorted(self.worklists.values(), key=_execution_rank)
        for wl in order:
            kind = wl.key[0]
            if not wl.count:
                continue
            if kind in ("list", "external"):
                if wl.rule is None or not wl.rule.exec_:
                    continue
                self._scripts(wl)
            elif kind == "migrate":
                self._internal(wl, self._migrate)
            else:
                self._deletions(wl)

    def _buckets(self, wl: WorkList) -> list[int]:
        """Records per bucket: at most -B, and at most SIZE KB (at least one record)."""
        cap = None
        if wl.rule is not None and wl.rule.size is not None:
            try:
                cap = float(getattr(wl.rule.size, "value", None) or 0) or None
            except (TypeError, ValueError):
                cap = None
        if cap is None or not wl.sizes:
            full, rest = divmod(wl.count, self.bucket)
            return [self.bucket] * full + ([rest] if rest else [])
        counts: list[int] = []
        current = used = 0
        for kb in np.concatenate(wl.sizes).tolist():
            if current and (current >= self.bucket or used + kb > cap):
                counts.append(current)
                current = used = 0
            current += 1
            used += kb
        if current:
            counts.append(current)
        return counts

    def _split(self, wl: WorkList, tag: str) -> list[str]:
        paths = []
        counts = self._buckets(wl)
        with open(wl.path, "rb") as source:
            for number, count in enumerate(counts):
                path = os.path.join(self.workdir, f"{tag}.{number}")
                with open(path, "wb") as out:
                    for _ in range(count):
                        out.write(source.readline())
                paths.append(path)
        return paths

    def _script_ok(self, rule: Rule) -> bool:
        key = (rule.exec_, rule.opts)
        if key not in self._tested:
            argv = [rule.exec_ or "", "TEST", self.test_argument]
            if rule.opts is not None:
                argv.append(rule.opts)
            rc, out, err = _run(argv)
            self._emit(out)
            ok = rc == 0
            if not ok:
                self.outcome.problems.append(
                    f"[E] Interface script {rule.exec_} failed the TEST call with exit code "
                    f"{rc}; it is not used." + _stderr_text(err))
            self._tested[key] = ok
        return self._tested[key]

    def _scripts(self, wl: WorkList) -> None:
        rule = wl.rule
        assert rule is not None
        if not self._script_ok(rule):
            self.outcome.add(errors=wl.count)
            return
        operation = "LIST" if wl.key[0] == "list" else wl.key[2]
        name = wl.key[1]
        buckets = self._split(wl, f"bucket.{_safe(name)}.{operation.lower()}")
        counts = self._buckets(wl)
        self.outcome.add(dispatched=wl.count)

        def call(item: tuple[str, int]) -> tuple[list[str], int, str, str, int]:
            path, count = item
            argv = [rule.exec_ or "", operation, path]
            if rule.opts is not None:
                argv.append(rule.opts)
            rc, out, err = _run(argv)
            return argv, rc, out, err, count

        with ThreadPoolExecutor(max_workers=max(1, self.threads)) as pool:
            for argv, rc, out, err, count in pool.map(call, zip(buckets, counts)):
                self._emit(out)
                if rc != 0:
                    self.outcome.problems.append(
                        f"[E] Error on {' '.join(argv)}: the interface script exited with "
                        f"code {rc}." + _stderr_text(err))
                    self.outcome.add(errors=count)
                else:
                    self.outcome.add(scripted=count)
                    if err:
                        self.outcome.problems.append(err.rstrip("\n"))
        for path in buckets:
            try:
                os.unlink(path)
            except OSError:
                pass

    def _emit(self, text: str) -> None:
        if text:
            self.outcome.lines.extend(text.rstrip("\n").split("\n"))

    def _entries(self, wl: WorkList) -> Iterator[list[records.Record]]:
        with open(wl.path, "rb") as source:
            bucket: list[records.Record] = []
            for record in records.parse_records(source, escape=None):
                bucket.append(record)
                if len(bucket) >= self.bucket:
                    yield bucket
                    bucket = []
            if bucket:
                yield bucket

    def _internal(self, wl: WorkList, act: Callable[[WorkList, records.Record], str | None]
                  ) -> None:
        def run(bucket: list[records.Record]) -> None:
            for record in bucket:
                problem = act(wl, record)
                if problem is not None:
                    with self.outcome.lock:
                        self.outcome.problems.append(problem)

        self.outcome.add(dispatched=wl.count)
        with ThreadPoolExecutor(max_workers=max(1, self.threads)) as pool:
            list(pool.map(run, self._entries(wl)))

    def _same_file(self, record: records.Record) -> os.stat_result | None:
        try:
            st = os.lstat(record.path)
        except OSError:
            self.outcome.add(skipped=1)
            return None
        if st.st_ino != record.inode:
            self.outcome.add(skipped=1)
            return None
        return st

    def _migrate(self, wl: WorkList, record: records.Record) -> str | None:
        st = self._same_file(record)
        if st is None:
            return None
        if not statmod.S_ISREG(st.st_mode):
            self.outcome.add(skipped=1)
            return None
        pool = wl.key[1]
        try:
            if fileattrs.recorded_pool(record.path) != pool:
                fileattrs.set_pool(record.path, pool)
            if wl.replicate is not None:
                fileattrs.set_replication(record.path, data=wl.replicate)
        except OSError as exc:
            self.outcome.add(errors=1)
            return f"[E] Cannot migrate {messages.show_path(record.path)}: {exc.strerror}."
        self.outcome.add(migrated=1)
        return None

    def _deletions(self, wl: WorkList) -> None:
        self.outcome.add(dispatched=wl.count)
        directories: list[records.Record] = []

        def run(bucket: list[records.Record]) -> None:
            for record in bucket:
                st = self._same_file(record)
                if st is None:
                    continue
                if statmod.S_ISDIR(st.st_mode):
                    with self.outcome.lock:
                        directories.append(record)
                    continue
                self._delete(record, os.unlink)

        with ThreadPoolExecutor(max_workers=max(1, self.threads)) as pool:
            list(pool.map(run, self._entries(wl)))
        for record in sorted(directories, key=lambda r: r.path.count(b"/"), reverse=True):
            self._delete(record, os.rmdir)

    def _delete(self, record: records.Record, remove: Callable[[bytes], None]) -> None:
        try:
            remove(record.path)
        except OSError as exc:
            self.outcome.add(errors=1)
            with self.outcome.lock:
                self.outcome.problems.append(
                    f"[E] Cannot delete {messages.show_path(record.path)}: {exc.strerror}.")
            return
        self.outcome.add(deleted=1)


def _execution_rank(wl: WorkList) -> int:
    """Lists first, then external migrations, internal migrations, deletions."""
    return {"list": 0, "external": 1, "migrate": 2, "delete": 3}[wl.key[0]]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def _run(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, capture_output=True, check=False, stdin=subprocess.DEVNULL)
    except OSError as exc:
        return 127, "", f"{argv[0]}: {exc.strerror}\n"
    return (done.returncode, done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"))


def _stderr_text(err: str) -> str:
    err = err.rstrip("\n")
    return f"\n{err}" if err else ""
