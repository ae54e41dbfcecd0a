"""Callbacks: mmaddcallback, mmdelcallback, mmlscallback (storage-scale.md §2.13, §3).

The callbacks live in the ``callbacks`` table; ``gpfskit.emulator.events`` runs them when
their events happen.

Where the reference is silent:

* ``mmaddcallback`` checks the identifier (at most 255 characters; no colon, semicolon,
  blank, tab, comma or control character; not starting with ``gpfs`` or ``mm``; exit 22, or
  17 when it exists), that ``--command`` is an absolute path (22) to an existing (2),
  executable regular file (22), that every ``--event`` is a known event name (22; the
  spellings ``clusterManagerTakeover`` and ``fileSetLimitExceeded`` are accepted too),
  ``--priority`` a number, ``--timeout`` a positive number of seconds and ``--onerror`` one of
  ``continue``, ``quorumLoss``, ``shutdown`` — the last two only with ``--sync``. ``-N`` is
  checked against the nodes and node classes and kept as given (a node class is expanded when
  an event fires). Adding or deleting a ``tiebreakerCheck`` callback needs GPFS down on every
  node (exit 1).
* ``mmaddcallback -S File`` (``--spec-file``) reads one callback per line, written as the
  arguments of ``mmaddcallback`` (shell quoting, ``#`` comments); all are checked before any
  is added.
* ``mmdelcallback`` refuses the whole list (exit 2, nothing deleted) when a name is unknown.
* ``mmlscallback`` shows, under the identifier, ``command``, then ``priority``, ``sync``,
  ``timeout``, ``onError``, ``event``, ``node`` and ``parms`` when set (the ``--parms``
  strings joined with blanks). The emulator has no built-in (system) callbacks, so ``system``
  lists only callbacks named ``mm*``/``gpfs*`` (none can be added) and ``all`` equals
  ``user``. An unknown identifier is exit 2. Nothing is printed when there is nothing to list.
* ``mmlscallback -Y`` header (the real column names are not documented)::

    mmlscallback::HEADER:version:reserved:reserved:identifier:command:priority:sync:timeout:onError:event:node:parms:

  ``sync`` is ``yes``/``no``, ``event`` the comma-separated names, empty fields mean unset.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import time
from pathlib import Path

from gpfskit.emulator import events
from gpfskit.emulator.args import MAX_NUMBER, Parsed, UsageError, parse
from gpfskit.emulator.commands.daemon import propagating
from gpfskit.emulator.dispatch import CommandError, Invocation, command
from gpfskit.emulator.output import ytable

_NODE_SPEC = "-N {Node[,Node...] | NodeFile | NodeClass}"
_ADD_USAGE = f"""mmaddcallback CallbackIdentifier --command CommandPathname
              --event Event[,Event...] [--priority Value]
              [--async | --sync [--timeout Seconds] [--onerror Action]]
              [{_NODE_SPEC}]
              [--parms ParameterString ...]
mmaddcallback {{-S Filename | --spec-file Filename}}"""
_ADD_FLAGS = ("--async", "--sync")
_ADD_VALUED = ("--command", "--event", "--priority", "--timeout", "--onerror", "-N", "--parms")

Y_COLUMNS = ["identifier", "command", "priority", "sync", "timeout", "onError", "event", "node",
             "parms"]
MAX_IDENTIFIER = 255
_BAD_ID = re.compile(r"[:;, \t\x00-\x1f\x7f]")
TIEBREAKER = "tiebreakerCheck"


def check_identifier(name: str) -> str | None:
    """Why ``name`` cannot be a callback identifier, or None when it can."""
    if not name:
        return "it is empty"
    if len(name) > MAX_IDENTIFIER:
        return f"it is longer than {MAX_IDENTIFIER} characters"
    if _BAD_ID.search(name):
        return "it may not contain a colon, semicolon, blank, tab or comma"
    if name.startswith(("gpfs", "mm")):
        return "names starting with gpfs or mm are reserved for system callbacks"
    return None


def _all_down(inv: Invocation) -> bool:
    return all(r["state"] == "down" for r in inv.db.execute("SELECT state FROM nodes"))


def _number(inv: Invocation, option: str, text: str, *, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or abs(value) > MAX_NUMBER or (positive and value <= 0):
        raise inv.fail(f"Incorrect value for {option}: {text}", 22)
    return int(value) if value == int(value) else value


def _plan(inv: Invocation, args: Parsed, taken: set[str]) -> tuple[object, ...]:
    """Check one callback definition; returns the values of its ``callbacks`` row."""
    if len(args.operands) != 1:
        raise UsageError("Missing arguments." if not args.operands
                         else f"Incorrect extra argument: {args.operands[1]}")
    ident = args.operands[0]
    problem = check_identifier(ident)
    if problem is not None:
        raise inv.fail(f"Incorrect callback identifier {ident!r}: {problem}.", 22)
    if ident in taken:
        raise inv.fail(f"Callback identifier {ident} already exists.", 17)
    path = args.get("--command")
    if path is None or args.get("--event") is None:
        raise UsageError("The --command and --event options are required.")
    if not path.startswith("/"):
        raise inv.fail(f"The command {path} must be given by its full path name.", 22)
    if not os.path.lexists(path):
        raise inv.fail(f"Command {path} does not exist.", 2)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise inv.fail(f"Command {path} is not an executable file.", 22)
    names: list[str] = []
    for name in args.get("--event").split(","):
        if not name:
            continue
        if not events.known_event(name):
            raise inv.fail(f"Incorrect event name {name!r}.", 22)
        if name not in names:
            names.append(name)
    if not names:
        raise inv.fail("No events were specified.", 22)
    if args.has("--sync") and args.has("--async"):
        raise UsageError("Options --sync and --async cannot be used together.")
    sync = args.has("--sync")
    if not sync and args.has("--timeout", "--onerror"):
        raise inv.fail("The --timeout and --onerror options are valid only with --sync.", 22)
    priority = (_number(inv, "--priority", args.get("--priority"))
                if args.has("--priority") else None)
    timeout = (_number(inv, "--timeout", args.get("--timeout"), positive=True)
               if args.has("--timeout") else None)
    onerror = args.get("--onerror")
    if onerror is not None:
        match = [a for a in events.ONERROR if a.lower() == onerror.lower()]
        if not match:
            raise inv.fail(f"Incorrect value for --onerror: {onerror} (expected "
                           f"{', '.join(events.ONERROR)}).", 22)
        onerror = match[0]
    nodes = args.get("-N")
    if nodes is not None:
        inv.node_names(nodes)  # refuses unknown nodes and classes
    parms = args.all("--parms")
    for text in parms:
        if "\0" in text or "\n" in text:
            raise inv.fail("A parameter string may not contain a newline.", 22)
    if TIEBREAKER in names and not _all_down(inv):
        raise inv.fail(f"GPFS must be down on all nodes to add a {TIEBREAKER} callback.", 1)
    return (ident, path, ",".join(names), priority, int(sync), timeout, onerror, nodes,
            json.dumps(parms), time.time())


def _spec_lines(inv: Invocation, path: str) -> list[list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise inv.fail(f"Cannot read {path}: {exc.strerror or exc}.", 2) from exc
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise inv.fail(f"{path} line {number}: {exc}.", 22) from exc
        if words:
            lines.append(words)
    if not lines:
        raise inv.fail(f"{path} defines no callbacks.", 22)
    return lines


@command("mmaddcallback", _ADD_USAGE, flags=_ADD_FLAGS,
         valued=(*_ADD_VALUED, "-S", "--spec-file"), changing=True)
def mmaddcallback(inv: Invocation, args: Parsed) -> None:
    taken = {r["identifier"] for r in inv.db.execute("SELECT identifier FROM callbacks")}
    spec = args.get("-S") or args.get("--spec-file")
    if spec is not None:
        if args.operands or args.flags or len(args.values) > 1:
            raise UsageError("-S cannot be combined with other arguments.")
        definitions = []
        for words in _spec_lines(inv, spec):
            definitions.append(parse(words, flags=_ADD_FLAGS, valued=_ADD_VALUED))
    else:
        definitions = [args]
    rows = []
    for definition in definitions:
        row = _plan(inv, definition, taken)
        taken.add(row[0])
        rows.append(row)
    inv.db.executemany("INSERT INTO callbacks (identifier, command, events, priority, sync, "
                       "timeout, onerror, nodes, parms, created) VALUES (?, ?, ?, ?, ?, ?, ?, "
                       "?, ?, ?)", rows)
    propagating(inv)


def _identifiers(text: str) -> list[str]:
    return [n for n in text.split(",") if n]


@command("mmdelcallback", "mmdelcallback CallbackIdentifier[,CallbackIdentifier...]",
         min_operands=1, changing=True)
def mmdelcallback(inv: Invocation, args: Parsed) -> None:
    names = [n for operand in args.operands for n in _identifiers(operand)]
    if not names:
        raise UsageError("Missing arguments.")
    rows = {r["identifier"]: r for r in inv.db.execute("SELECT * FROM callbacks")}
    for name in names:
        if name not in rows:
            raise inv.fail(f"Callback {name} does not exist.", 2)
        if TIEBREAKER in rows[name]["events"].split(",") and not _all_down(inv):
            raise inv.fail(f"GPFS must be down on all nodes to delete the {TIEBREAKER} "
                           f"callback {name}.", 1)
    inv.db.executemany("DELETE FROM callbacks WHERE identifier = ?", [(n,) for n in names])
    propagating(inv)


def _format_number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _selected(inv: Invocation, operand: str | None) -> list[sqlite3.Row]:
    rows = inv.db.execute("SELECT * FROM callbacks ORDER BY created, identifier").fetchall()
    if operand == "all":
        return rows
    if operand in (None, "user", "system"):
        system = operand == "system"
        return [r for r in rows if r["identifier"].startswith(("gpfs", "mm")) == system]
    by_name = {r["identifier"]: r for r in rows}
    chosen = []
    for name in _identifiers(operand):
        if name not in by_name:
            raise CommandError(f"{inv.name}: Callback {name} does not exist.", 2)
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    return chosen


@command("mmlscallback",
         "mmlscallback [-Y] [CallbackIdentifier[,CallbackIdentifier...] | user | system | all]",
         flags=("-Y",), max_operands=1)
def mmlscallback(inv: Invocation, args: Parsed) -> None:
    rows = _selected(inv, args.operands[0] if args.operands else None)
    listing = []
    for row in rows:
        parms = " ".join(events.Registered.from_row(row).parms)
        listing.append([row["identifier"], row["command"], _format_number(row["priority"]),
                        "yes" if row["sync"] else "no", _format_number(row["timeout"]),
                        row["onerror"] or "", row["events"], row["nodes"] or "", parms])
    if args.has("-Y"):
        inv.out.write(ytable("mmlscallback", "", Y_COLUMNS, listing))
        return
    for ident, path, priority, sync, timeout, onerror, names, nodes, parms in listing:
        inv.say(ident)
        for label, value in (("command", path), ("priority", priority),
                             ("sync", "yes" if sync == "yes" else ""), ("timeout", timeout),
                             ("onError", onerror), ("event", names), ("node", nodes),
                             ("parms", parms)):
            if value:
                inv.say(f"        {label:<14}= {value}")
