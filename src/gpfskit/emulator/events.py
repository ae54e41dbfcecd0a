"""Callback events of the emulated cluster: which callbacks an event runs, where, and how.

The commands call in here where an event happens (storage-scale.md §3):

* ``before(inv, "preMount", nodes, variables)`` runs the callbacks of a *pre* event at once,
  inside the command's transaction, and raises ``Veto`` when a synchronous one fails and its
  ``--onerror`` is anything but ``continue`` (the command then stops with nothing changed);
  ``require`` does the same and turns the veto into the command's refusal.
* ``after(inv, "mount", nodes, variables)`` schedules the callbacks of an event for when the
  command's transaction has committed (``Invocation.after_commit``), so they never run for a
  change that was rolled back, and a handler may itself change the cluster.
* helpers for the events with more to them: ``daemon_changes`` (startup, shutdown, nodeJoin,
  nodeLeave, quorumReached, quorumLoss, quorumNodeJoin, quorumNodeLeave,
  clusterManagerTakeOver from node states before/after), ``snapshot_created``,
  ``save_quota_clocks`` (softQuotaExceeded / usageUnderSoftQuota, filesetLimitExceeded),
  ``pool_levels`` (lowDiskSpace / noDiskSpace), ``disks_stopped`` (diskFailure) and
  ``check`` (the file system manager's periodic checks, ``python -m gpfskit.emulator.events
  check``).

Where an event runs. A *local* event runs on the node where it happens (a mount on node2 runs
node2's callbacks) and an ``-N`` list on the callback limits the nodes; the file-system-manager
events (lowDiskSpace, noDiskSpace, softQuotaExceeded, usageUnderSoftQuota,
filesetLimitExceeded) run on the file system's manager node; a *global* event runs on every
node whose daemon runs (active or arbitrating), whatever the ``-N`` list says.

How a callback runs. As a real subprocess: argv is ``--command`` followed by the words of the
``--parms`` strings (all of them joined, split on blanks) with every ``%variable`` replaced by
its value; a variable with no value for the event, or an unknown one, becomes ``UNDEFINED``.
Node lists (``%upNodes``, ``%downNodes``, ``%quorumNodes``) are comma-separated node names;
``%quorumNodes`` names the quorum nodes whose daemon runs. The environment tells the callback
where it runs: ``GPFSKIT_NODE`` (the node), ``GPFSKIT_EVENT``, ``GPFSKIT_CALLBACK_ID`` and
``GPFSKIT_EMULATOR_ROOT``. Callbacks of one event run in ``--priority`` order (smaller values
first, callbacks without a priority last, then in the order they were added).

* ``--async`` (the default): started detached (own session, no terminal, output discarded)
  and never waited for; they cannot fail the command.
* ``--sync``: waited for, at most ``--timeout`` seconds (default ``DEFAULT_TIMEOUT``; the
  process group is killed then). A failure (non-zero exit, timeout, command that cannot run)
  is logged; on a *pre* event an ``--onerror`` other than ``continue`` is a veto. Elsewhere
  ``--onerror quorumLoss|shutdown`` is only logged: the emulator does not stop daemons for it.
  Synchronous pre-event callbacks run while the command holds the cluster's write lock: they
  may read the cluster, but a command that changes it waits for the lock (the real caveat that
  synchronous callbacks which use GPFS can hang it).

Every invocation is logged in the node's daemon log ``<root>/var/adm/ras/<node>/mmfs.log.latest``
as ``[I] Calling user exit script <id>: event <event>, Async command <path>.`` (``Sync`` for
synchronous ones), failures as ``[E]`` lines.

Conditions the emulator can only observe when it measures (pool occupancy, fileset inodes)
fire when a measuring command (``mmdf``, ``mmlspool``, ``mmrepquota``, ``mmlsquota``) or the
periodic check first sees them, and fire again at most every ``REFIRE_SECONDS`` while they
last (lowDiskSpace "re-fires periodically while true"); the last firing is kept in
``<root>/events/conditions.json``. Soft quotas fire once per crossing, tracked by the quota
grace clocks (``quotas.block_over_since``/``files_over_since``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpfskit.emulator import capacity, state
from gpfskit.emulator.capacity import PoolFigures
from gpfskit.emulator.dispatch import CommandError, Invocation, local_node
from gpfskit.emulator.quota_ledger import (
    ClockUpdate,
    QuotaEntry,
    QuotaKey,
    QuotaLedger,
    owner_name,
)
from gpfskit.event_catalog import (
    ALIASES,
    EVENTS,
    GLOBAL,
    LOCAL,
    MANAGER,
    ONERROR,
    PRE_EVENTS,
    UNDEFINED,
    VARIABLES,
    canonical,
    known_event,
)

__all__ = ["ALIASES", "EVENTS", "GLOBAL", "LOCAL", "MANAGER", "ONERROR", "PRE_EVENTS",
           "UNDEFINED", "VARIABLES", "Veto", "after", "before", "canonical", "check",
           "daemon_changes", "daemon_state", "known_event", "pool_levels", "require",
           "save_quota_clocks", "snapshot_created"]

DEFAULT_TIMEOUT = 60.0
REFIRE_SECONDS = 120.0

_VARIABLE = re.compile(r"%([A-Za-z][A-Za-z0-9]*)")


def daemon_log(root: Path, node: str) -> Path:
    """The daemon log of ``node`` (``mmfs.log.latest``) under the emulator root."""
    return Path(root) / "var" / "adm" / "ras" / node / "mmfs.log.latest"


def log_line(root: Path, node: str, text: str) -> None:
    """Append one line to ``node``'s daemon log, with the log's timestamp prefix."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d_%H:%M:%S", time.localtime(now))
    zone = time.strftime("%z", time.localtime(now))
    path = daemon_log(root, node)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{stamp}.{int(now % 1 * 1000):03d}{zone}: {text}\n")
    except OSError:
        pass


# The registry --------------------------------------------------------------------------

@dataclass(frozen=True)
class Registered:
    """One row of the ``callbacks`` table."""

    identifier: str
    command: str
    events: tuple[str, ...]
    priority: float | None
    sync: bool
    timeout: float | None
    onerror: str | None
    nodes: str | None
    parms: tuple[str, ...]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Registered:
        try:
            parms = tuple(str(p) for p in json.loads(row["parms"] or "[]"))
        except ValueError:
            parms = ()
        return cls(row["identifier"], row["command"],
                   tuple(e for e in row["events"].split(",") if e), row["priority"],
                   bool(row["sync"]), row["timeout"], row["onerror"], row["nodes"] or None,
                   parms)

    def handles(self, event: str) -> bool:
        return any(canonical(e) == event for e in self.events)

    def words(self) -> list[str]:
        """The argument words before substitution: all ``--parms`` strings, split on blanks."""
        return " ".join(self.parms).split()


def registered(db: sqlite3.Connection, event: str) -> list[Registered]:
    """The callbacks for ``event`` in the order they run."""
    event = canonical(event)
    rows = db.execute("SELECT * FROM callbacks ORDER BY priority IS NULL, priority, created, "
                      "identifier").fetchall()
    return [cb for cb in map(Registered.from_row, rows) if cb.handles(event)]


def _any_for(db: sqlite3.Connection, event: str) -> bool:
    """Cheap test: could any callback be registered for ``event``?"""
    names = [event, *(alias for alias, name in ALIASES.items() if name == event)]
    return any(db.execute("SELECT 1 FROM callbacks WHERE ',' || events || ',' LIKE ? LIMIT 1",
                          (f"%,{name},%",)).fetchone() for name in names)


def _node_rows(db: sqlite3.Connection) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM nodes ORDER BY number").fetchall()


def running_nodes(db: sqlite3.Connection) -> list[str]:
    """Nodes whose daemon runs (active or arbitrating): where global events run."""
    return [n["name"] for n in _node_rows(db) if n["state"] in ("active", "arbitrating")]


def fs_manager(db: sqlite3.Connection, fs: str) -> str:
    """The node running file system ``fs``'s manager (where the FS-manager events run)."""
    row = db.execute("SELECT manager_node FROM filesystems WHERE name = ?", (fs,)).fetchone()
    if row is not None and row["manager_node"]:
        return row["manager_node"]
    cluster = db.execute("SELECT manager_node FROM cluster").fetchone()
    if cluster is not None and cluster["manager_node"]:
        return cluster["manager_node"]
    first = db.execute("SELECT name FROM nodes ORDER BY number LIMIT 1").fetchone()
    return first["name"] if first else "localhost"


def _allowed_nodes(inv: Invocation, spec: str | None) -> set[str] | None:
    """The nodes an ``-N`` spec names now (None: no limit)."""
    if not spec:
        return None
    try:
        return set(inv.node_names(spec))
    except CommandError:
        return set()


def common_variables(db: sqlite3.Connection) -> dict[str, str]:
    """Variables every event has: the cluster, its manager and its node lists."""
    nodes = _node_rows(db)
    cluster = db.execute("SELECT name, manager_node FROM cluster").fetchone()
    up = [n["name"] for n in nodes if n["state"] == "active"]
    return {
        "clusterName": cluster["name"] if cluster else "",
        "clusterManager": (cluster["manager_node"] or "") if cluster else "",
        "upNodes": ",".join(up),
        "downNodes": ",".join(n["name"] for n in nodes if n["state"] == "down"),
        "quorumNodes": ",".join(n["name"] for n in nodes if n["designation"].startswith(
            "quorum") and n["state"] in ("active", "arbitrating")),
    }


def substitute(words: Iterable[str], variables: dict[str, Any]) -> list[str]:
    """Replace each ``%name`` in ``words``; no value (or an unknown name) -> ``UNDEFINED``."""

    def value(match: re.Match[str]) -> str:
        found = variables.get(match.group(1))
        return UNDEFINED if found is None or found == "" else str(found)

    return [_VARIABLE.sub(value, word) for word in words]


# Running callbacks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """What became of one synchronous callback run."""

    callback: Registered
    node: str
    returncode: int | None      # None: timed out or could not start
    problem: str | None = None  # why it failed, for messages

    @property
    def failed(self) -> bool:
        return self.returncode != 0


if TYPE_CHECKING:
    import subprocess

_children: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    _children[:] = [p for p in _children if p.poll() is None]


def _environment(root: Path, cb: Registered, event: str, node: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GPFSKIT_NODE=node, GPFSKIT_EVENT=event, GPFSKIT_CALLBACK_ID=cb.identifier,
               GPFSKIT_EMULATOR_ROOT=str(root))
    return env


def run_callback(root: Path, cb: Registered, event: str, node: str,
                 variables: dict[str, Any]) -> Run | None:
    """Run one callback for ``event`` on ``node``: wait when it is synchronous (returning what
    happened), start it detached otherwise (returning None)."""
    values = {**variables, "eventName": event, "myNode": node}
    values.setdefault("eventNode", node)
    argv = [cb.command, *substitute(cb.words(), values)]
    env = _environment(root, cb, event, node)
    mode = "Sync" if cb.sync else "Async"
    log_line(root, node, f"[I] Calling user exit script {cb.identifier}: event {event}, "
                         f"{mode} command {cb.command}.")
    import subprocess  # here: most commands that load this module run no callback

    if not cb.sync:
        _reap()
        try:
            _children.append(subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True))
        except OSError as exc:
            log_line(root, node, f"[E] Cannot run user exit script {cb.identifier} "
                                 f"({cb.command}): {exc.strerror or exc}.")
        return None
    timeout = float(cb.timeout) if cb.timeout else DEFAULT_TIMEOUT
    try:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True)
    except OSError as exc:
        problem = f"cannot run {cb.command}: {exc.strerror or exc}"
        log_line(root, node, f"[E] User exit script {cb.identifier} for event {event}: "
                             f"{problem}.")
        return Run(cb, node, None, problem)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        problem = f"did not finish within {timeout:g} seconds"
        log_line(root, node, f"[E] User exit script {cb.identifier} for event {event} {problem}"
                             f"; it was killed (onerror {cb.onerror or 'continue'}).")
        return Run(cb, node, None, problem)
    if process.returncode != 0:
        last = output.decode(errors="replace").strip().splitlines()[-1:] if output else []
        log_line(root, node, f"[E] User exit script {cb.identifier} for event {event} returned "
                             f"{process.returncode} (onerror {cb.onerror or 'continue'})"
                             + (f": {last[0]}" if last else "."))
        return Run(cb, node, process.returncode, f"exit code {process.returncode}")
    return Run(cb, node, 0)


@dataclass
class Occurrence:
    """One event happening: on which nodes and with which variables."""

    event: str
    nodes: list[str]
    variables: dict[str, Any] = field(default_factory=dict)


def _targets(inv: Invocation, cb: Registered, occurrence: Occurrence) -> list[str]:
    if EVENTS.get(occurrence.event) == GLOBAL:
        return list(occurrence.nodes)
    allowed = _allowed_nodes(inv, cb.nodes)
    return [n for n in occurrence.nodes if allowed is None or n in allowed]


def fire(inv: Invocation, occurrence: Occurrence) -> list[Run]:
    """Run the callbacks of an event now; returns the synchronous runs."""
    event = canonical(occurrence.event)
    if not occurrence.nodes or not _any_for(inv.db, event):
        return []
    variables = {**common_variables(inv.db), **occurrence.variables}
    callbacks = [(cb, _targets(inv, cb, occurrence)) for cb in registered(inv.db, event)]
    runs = []
    for node in occurrence.nodes:
        for cb, targets in callbacks:
            if node in targets:
                run = run_callback(inv.root, cb, event, node, variables)
                if run is not None:
                    runs.append(run)
    return runs


class Veto(Exception):
    """A synchronous pre-event callback failed and its --onerror stops the operation."""

    def __init__(self, run: Run, event: str):
        self.run = run
        self.event = event
        super().__init__(f"The {event} callback {run.callback.identifier} failed on node "
                         f"{run.node} ({run.problem}).")


def before(inv: Invocation, event: str, nodes: Sequence[str],
           variables: dict[str, Any] | None = None, *, veto: bool = True) -> None:
    """Run a pre event's callbacks now; raise ``Veto`` if one of them stops the operation
    (never when ``veto`` is False: a forced operation)."""
    for run in fire(inv, Occurrence(event, list(nodes), dict(variables or {}))):
        if veto and run.failed and (run.callback.onerror or "continue") != "continue":
            raise Veto(run, canonical(event))


def require(inv: Invocation, event: str, nodes: Sequence[str],
            variables: dict[str, Any] | None = None, *, stopped: str = "") -> None:
    """``before``, with a veto turned into the command's refusal (``stopped`` says what did
    not happen, e.g. ``GPFS was not started.``)."""
    try:
        before(inv, event, nodes, variables)
    except Veto as veto:
        raise inv.fail(f"{veto}{' ' + stopped if stopped else ''}", 1) from veto


def _later(inv: Invocation, event: str, nodes: Sequence[str] | None,
           variables: dict[str, Any] | None) -> Callable[[], None] | None:
    """What ``after`` schedules (None when no callback can be interested); ``nodes`` None
    means the nodes whose daemon runs when it fires (global events)."""
    event = canonical(event)
    if (nodes is not None and not nodes) or not _any_for(inv.db, event):
        return None
    chosen = list(nodes) if nodes is not None else None
    values = dict(variables or {})

    def run() -> None:
        fire(inv, Occurrence(event, chosen if chosen is not None else running_nodes(inv.db),
                             values))

    return run


def after(inv: Invocation, event: str, nodes: Sequence[str],
          variables: dict[str, Any] | None = None) -> None:
    """Run an event's callbacks on ``nodes`` once the command's transaction has committed."""
    action = _later(inv, event, nodes, variables)
    if action is not None:
        inv.after_commit.append(action)


def after_global(inv: Invocation, event: str, variables: dict[str, Any] | None = None) -> None:
    """A global event: its callbacks run on every node whose daemon runs after the command."""
    action = _later(inv, event, None, variables)
    if action is not None:
        inv.after_commit.append(action)


# The daemon ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DaemonState:
    states: dict[str, str]
    designations: dict[str, str]
    manager: str | None
    mark: int  # how many after-commit actions the command had scheduled by then


def daemon_state(inv: Invocation) -> DaemonState:
    """Node states now: call it before a command changes them, and ``daemon_changes`` at the
    end."""
    nodes = _node_rows(inv.db)
    cluster = inv.db.execute("SELECT manager_node FROM cluster").fetchone()
    return DaemonState({n["name"]: n["state"] for n in nodes},
                       {n["name"]: n["designation"] for n in nodes},
                       cluster["manager_node"] if cluster else None, len(inv.after_commit))


def _quorum(state_: DaemonState) -> bool:
    """A majority of the quorum nodes runs GPFS (as ``daemon.quorum_holds`` counts it)."""
    quorum = [n for n, d in state_.designations.items() if d.startswith("quorum")]
    running = sum(1 for n in quorum if state_.states.get(n) in ("active", "arbitrating"))
    return not quorum or running * 2 > len(quorum)


def daemon_changes(inv: Invocation, before_state: DaemonState) -> None:
    """Schedule the events a change of node states means: startup and shutdown on the nodes
    whose daemon started or stopped, nodeJoin/nodeLeave (and quorumNodeJoin/quorumNodeLeave
    for quorum nodes) for nodes that became active or stopped being active,
    quorumReached/quorumLoss, and clusterManagerTakeOver when the cluster manager moved.

    The events of daemons coming up run before whatever the command scheduled meanwhile
    (the mounts of an automount), those of daemons going down after it (the unmounts)."""
    now = daemon_state(inv)
    old = before_state.states
    started = [n for n, s in now.states.items() if s != "down" and old.get(n, "down") == "down"]
    stopped = [n for n, s in now.states.items() if s == "down" and old.get(n, "down") != "down"]
    joined = [n for n, s in now.states.items() if s == "active" and old.get(n) != "active"]
    left = [n for n, s in now.states.items() if s != "active" and old.get(n) == "active"]
    early: list[Callable[[], None] | None] = []
    late: list[Callable[[], None] | None] = []
    had, has = _quorum(before_state), _quorum(now)
    early += [_later(inv, "startup", [n], None) for n in started]
    if has and not had:
        early.append(_later(inv, "quorumReached", None, None))
    for node in joined:
        early.append(_later(inv, "nodeJoin", None, {"eventNode": node}))
        if now.designations.get(node, "").startswith("quorum"):
            early.append(_later(inv, "quorumNodeJoin", None, {"eventNode": node}))
    if now.manager and now.manager != before_state.manager:
        early.append(_later(inv, "clusterManagerTakeOver", None, {"eventNode": now.manager}))
    late += [_later(inv, "shutdown", [n], None) for n in stopped]
    for node in left:
        late.append(_later(inv, "nodeLeave", None, {"eventNode": node}))
        if now.designations.get(node, "").startswith("quorum"):
            late.append(_later(inv, "quorumNodeLeave", None, {"eventNode": node}))
    if had and not has:
        late.append(_later(inv, "quorumLoss", None, None))
    mark = min(before_state.mark, len(inv.after_commit))
    inv.after_commit[mark:mark] = [a for a in early if a is not None]
    inv.after_commit.extend(a for a in late if a is not None)


# Snapshots, disks ----------------------------------------------------------------------

def snapshot_created(inv: Invocation, fs: str, name: str, snap_id: int,
                     fileset: str | None = None) -> None:
    """``snapshotCreated`` on the node that ran the command (``fileset`` None: global)."""
    after(inv, "snapshotCreated", [inv.node],
          {"fsName": fs, "filesetName": fileset, "snapshotName": name, "snapshotID": snap_id})


def disks_stopped(inv: Invocation, fs: str, disks: Iterable[sqlite3.Row],
                  reason: str = "stopped") -> None:
    """``diskFailure`` for disks marked down, on the file system manager."""
    for disk in disks:
        after(inv, "diskFailure", [fs_manager(inv.db, fs)],
              {"fsName": fs, "diskName": disk["name"], "storagePool": disk["pool"],
               "reason": reason})


# Conditions observed by measuring ------------------------------------------------------

@contextlib.contextmanager
def _conditions(root: Path) -> Iterator[dict[str, float]]:
    """The last firing time of each condition-based event, locked while in use."""
    path = Path(root) / "events" / "conditions.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        before_ = dict(data)
        yield data
        if data != before_:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)


def _observe(inv: Invocation, seen: dict[str, tuple[bool, Callable[[], None]]], *,
             forget: str | None = None, refire: float | None = REFIRE_SECONDS) -> None:
    """Fire each condition in ``seen`` that holds and has not fired for ``refire`` seconds;
    forget the ones that no longer hold, and those starting with ``forget`` that were not
    measured at all (their object is gone)."""
    now = time.time()
    try:
        with _conditions(inv.root) as data:
            for key, (holds, fire_) in seen.items():
                if not holds:
                    data.pop(key, None)
                    continue
                last = data.get(key)
                if last is None or (refire is not None and now - last >= refire):
                    data[key] = now
                    fire_()
            if forget is not None:
                for key in [k for k in data if k.startswith(forget) and k not in seen]:
                    del data[key]
    except OSError:
        return


def _migrate_thresholds(db: sqlite3.Connection, fs: str) -> list[tuple[str | None, float]]:
    """(pool or None for every pool, high %) of the installed MIGRATE rules with THRESHOLD."""
    row = db.execute("SELECT text FROM policies WHERE fs = ?", (fs,)).fetchone()
    if row is None or "THRESHOLD" not in row["text"].upper():
        return []
    # Imported here: most commands that load this module never measure pools, and a
    # shell's read-only command should not pay for loading the parser.
    from gpfskit.language import PolicySyntaxError, RuleKind, parse_policy

    try:
        policy = parse_policy(row["text"])
    except PolicySyntaxError:  # mmchpolicy installs only policies that parse
        return []
    return [(rule.from_pool, float(rule.threshold[0])) for rule in policy
            if rule.kind is RuleKind.MIGRATE and isinstance(rule.threshold, tuple)]


def pool_levels(inv: Invocation, fs_row: sqlite3.Row, pools: Iterable[PoolFigures]) -> None:
    """lowDiskSpace when a pool's occupancy reaches the high mark of a MIGRATE rule's
    THRESHOLD, noDiskSpace when a data pool is full."""
    fs = fs_row["name"]
    wanted = [e for e in ("lowDiskSpace", "noDiskSpace") if _any_for(inv.db, e)]
    if not wanted:
        return
    thresholds = _migrate_thresholds(inv.db, fs) if "lowDiskSpace" in wanted else []
    manager = fs_manager(inv.db, fs)
    seen: dict[str, tuple[bool, Callable[[], None]]] = {}
    for pool in pools:
        disks = [d for d in pool.disks if d.row["data"]] or list(pool.disks)
        size = sum(d.size_kb for d in disks)
        if not size:
            continue
        free = sum(d.free_kb for d in disks)
        occupancy = (size - free) * 100.0 / size
        values = {"fsName": fs, "storagePool": pool.name}
        marks = [high for name, high in thresholds if name in (None, pool.name)]
        for event, holds in (("lowDiskSpace", bool(marks) and occupancy >= min(marks or [0])),
                             ("noDiskSpace", free <= 0 and any(d.row["data"] for d in disks))):
            if event in wanted:
                seen[f"{event}:{fs}:{pool.name}"] = (
                    holds, lambda e=event, v=values: after(inv, e, [manager], v))
    _observe(inv, seen)


def fileset_limits(inv: Invocation, fs_row: sqlite3.Row, inodes: dict[int, int]) -> None:
    """filesetLimitExceeded for each independent fileset (inode space) whose used inodes
    (``inodes``: fileset id -> inodes in use) reached its maximum."""
    fs = fs_row["name"]
    if not _any_for(inv.db, "filesetLimitExceeded"):
        return
    rows = inv.db.execute("SELECT * FROM filesets WHERE fs = ? AND status != 'Deleted'",
                          (fs,)).fetchall()
    manager = fs_manager(inv.db, fs)
    seen: dict[str, tuple[bool, Callable[[], None]]] = {}
    for owner in rows:
        if not owner["is_inode_space_owner"] or owner["id"] == 0 or not owner["max_inodes"]:
            continue
        used = sum(inodes.get(r["id"], 0) for r in rows
                   if r["inode_space"] == owner["inode_space"])
        values = {"fsName": fs, "filesetName": owner["name"], "filesUsage": used,
                  "filesLimit": owner["max_inodes"], "filesetSize": owner["max_inodes"]}
        seen[f"filesetLimitExceeded:{fs}:{owner['name']}"] = (
            used >= owner["max_inodes"],
            lambda v=values: after(inv, "filesetLimitExceeded", [manager], v))
    _observe(inv, seen, forget=f"filesetLimitExceeded:{fs}:")


# Quotas --------------------------------------------------------------------------------

def save_quota_clocks(inv: Invocation, ledger: QuotaLedger) -> None:
    """Save a ledger's grace clocks (``ledger.save_grace_clocks()``) and fire
    softQuotaExceeded for each entry whose usage went over a soft limit and
    usageUnderSoftQuota for each one that went back under, once the clocks are saved; also
    fileset inode limits from the usage the ledger measured."""
    pending = list(ledger.updates)
    interesting = pending and (_any_for(inv.db, "softQuotaExceeded")
                               or _any_for(inv.db, "usageUnderSoftQuota"))
    crossings = _quota_crossings(ledger, pending) if interesting else []
    ledger.save_grace_clocks()
    fs = ledger.fs
    manager = fs_manager(inv.db, fs)
    for key, event, which, entry in crossings:
        stored = inv.db.execute(
            "SELECT block_over_since, files_over_since FROM quotas WHERE fs = ? AND type = ? "
            "AND id = ? AND fileset = ?", (fs, *key)).fetchone()
        now_over = stored is not None and stored[f"{which}_over_since"] is not None
        if now_over != (event == "softQuotaExceeded"):
            continue  # the clock could not be saved: another report will see it again
        after(inv, event, [manager], _quota_variables(ledger, entry, which))
    inodes = {fid: counts.inodes for fid, counts in ledger.usage.filesets.items()}
    fileset_limits(inv, ledger.fs_row, inodes)


def _quota_crossings(ledger: QuotaLedger, pending: list[ClockUpdate]
                     ) -> list[tuple[QuotaKey, str, str, QuotaEntry]]:
    crossings = []
    saved = list(ledger.updates)
    try:
        for key, block_since, files_since in pending:
            row = ledger.rows.get(key)
            old = (row["block_over_since"], row["files_over_since"]) if row else (None, None)
            entry = None
            for which, was, now in (("block", old[0], block_since),
                                    ("files", old[1], files_since)):
                if (was is None) == (now is None):
                    continue
                if entry is None:
                    entry = ledger.entry_for(key)
                if entry is None:
                    break
                crossings.append((key, "softQuotaExceeded" if was is None
                                  else "usageUnderSoftQuota", which, entry))
    finally:
        ledger.updates = saved
    return crossings


def _quota_variables(ledger: QuotaLedger, entry: QuotaEntry, which: str) -> dict[str, Any]:
    fileset = entry.name if entry.type == "FILESET" else (entry.scope or None)
    return {"fsName": ledger.fs, "filesetName": fileset, "quotaType": entry.type,
            "quotaID": entry.id, "quotaOwnerName": entry.name, "quotaEventType": which,
            "blockUsage": entry.kb, "blockQuota": entry.block_soft,
            "blockLimit": entry.block_hard, "filesUsage": entry.files,
            "filesQuota": entry.files_soft, "filesLimit": entry.files_hard}


def quota_limits_set(inv: Invocation, ledger: QuotaLedger, key: QuotaKey,
                     old_row: sqlite3.Row | None, limits: Sequence[int],
                     since: Sequence[float | None]) -> None:
    """``mmsetquota`` stored new limits for ``key`` (clocks ``since``): a usage now over (or
    back under) a soft limit is a crossing too."""
    if key.id < 0:
        return
    old = ((old_row["block_over_since"], old_row["files_over_since"]) if old_row is not None
           else (None, None))
    counts = None
    for which, was, now in (("block", old[0], since[0]), ("files", old[1], since[1])):
        if (was is None) == (now is None):
            continue
        if counts is None:
            counts = ledger.usage_of(key)
        if key.type == "FILESET":
            fileset = ledger.by_id[key.id]["name"] if key.id in ledger.by_id else None
            owner = fileset
        else:
            fileset, owner = key.fileset or None, owner_name(key.type, key.id)
        after(inv, "softQuotaExceeded" if was is None else "usageUnderSoftQuota",
              [fs_manager(inv.db, ledger.fs)],
              {"fsName": ledger.fs, "filesetName": fileset, "quotaType": key.type,
               "quotaID": key.id, "quotaOwnerName": owner, "quotaEventType": which,
               "blockUsage": counts.kb, "blockQuota": limits[0], "blockLimit": limits[1],
               "filesUsage": counts.inodes, "filesQuota": limits[2], "filesLimit": limits[3]})


# The periodic check --------------------------------------------------------------------

def check_filesystem(inv: Invocation, fs_row: sqlite3.Row) -> None:
    """What a file system manager checks now and then: every quota entry's usage against its
    soft limits, fileset inode limits, and pool occupancy."""
    ledger = QuotaLedger(inv.root, inv.db, fs_row)
    ledger.fileset_entries()
    for kind in ("USR", "GRP"):
        ledger.owner_entries(kind, None, True)
    save_quota_clocks(inv, ledger)
    pool_levels(inv, fs_row, capacity.figures(inv.root, inv.db, fs_row))


def check(root: str | os.PathLike[str], node: str | None = None) -> int:
    """Run the periodic checks on every file system of the cluster under ``root``; the
    callbacks they fire run before this returns (synchronous) or are started (asynchronous).
    Returns the number of file systems checked."""
    db = state.connection(Path(root))
    inv = Invocation("mmfsd", ["mmfsd", "check"], Path(root), db, local_node(db, node))
    with state.transaction(db, write=True):
        rows = db.execute("SELECT * FROM filesystems ORDER BY name").fetchall()
        for fs_row in rows:
            check_filesystem(inv, fs_row)
    for action in inv.after_commit:
        action()
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gpfskit.emulator.events check [--root DIR] [--node NODE]``"""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m gpfskit.emulator.events",
        description="Run the emulated file system managers' periodic checks (soft quotas, "
                    "fileset inode limits, pool occupancy) and fire the callbacks they "
                    "trigger. Run it from cron or a timer to get periodic events.")
    parser.add_argument("action", choices=["check"])
    parser.add_argument("--root", help="emulator root [default: gpfskit.emulator.root]")
    parser.add_argument("--node", help="the node to act as [default: gpfskit.emulator.node]")
    args = parser.parse_args(argv)
    from gpfskit.config import config

    root = args.root or config["gpfskit.emulator.root"]
    node = args.node or config["gpfskit.emulator.node"]
    try:
        check(root, node)
    except state.NoCluster as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
