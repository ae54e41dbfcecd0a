"""Node classes: mmlsnodeclass, mmcrnodeclass, mmchnodeclass, mmdelnodeclass.

User classes live in the ``nodeclasses`` / ``nodeclass_members`` tables; system classes are
computed from the nodes (designations, roles, NSD servers). ``-N`` specifications given to
the class commands are expanded (node classes to their members), so a class stores nodes.

``mmlsnodeclass -Y`` prints ``mmlsnodeclass::HEADER:version:reserved:reserved:nodeclass:type:
members:`` with ``type`` ``user`` or ``system`` and the members comma-joined (and therefore
encoded as ``%2C``). This header is not confirmed against a real cluster.
"""

from __future__ import annotations

import re
import sqlite3

from gpfskit.emulator.args import Parsed, UsageError
from gpfskit.emulator.commands.daemon import propagating
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.nodesets import system_classes
from gpfskit.emulator.output import ytable

CLASS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")

# Names the -N syntax or the system classes already use (compared case-insensitively).
RESERVED = frozenset(n.lower() for n in (
    "all", "all_local", "all_remote", "mount", "localhost", "aixNodes", "cesNodes",
    "clientLicense", "clientNodes", "cloudGatewayNodes", "cnfsDisabledNodes",
    "cnfsEnabledNodes", "cnfsNodes", "fpoLicense", "gatewayNodes", "linuxNodes",
    "managerNodes", "nonManagerNodes", "nonQuorumNodes", "nsdNodes", "quorumNodes",
    "serverLicense", "windowsNodes"))


def user_classes(db: sqlite3.Connection) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {r["name"]: [] for r in db.execute(
        "SELECT name FROM nodeclasses ORDER BY name")}
    for member in db.execute(
            "SELECT m.class, m.node FROM nodeclass_members m LEFT JOIN nodes n "
            "ON n.name = m.node ORDER BY n.number, m.node"):
        classes.setdefault(member["class"], []).append(member["node"])
    return classes


def _check_new_name(inv: Invocation, name: str) -> None:
    if not CLASS_NAME.match(name):
        raise inv.fail(f"Incorrect node class name {name!r}: use up to 64 letters, digits and "
                       "_ . - characters, starting with a letter or _.", 22)
    if name.lower() in RESERVED:
        raise inv.fail(f"{name} is a reserved node class name.", 22)
    if inv.db.execute("SELECT 1 FROM nodes WHERE name = ? OR admin_name = ?",
                      (name, name)).fetchone():
        raise inv.fail(f"Node class name {name} is the name of a node.", 22)
    if inv.db.execute("SELECT 1 FROM nodeclasses WHERE name = ?", (name,)).fetchone():
        raise inv.fail(f"Node class {name} already exists.", 17)


def _existing(inv: Invocation, name: str) -> None:
    if name.lower() in RESERVED or name in system_classes(inv.db):
        raise inv.fail(f"{name} is a system node class; it cannot be changed or deleted.", 22)
    if not inv.db.execute("SELECT 1 FROM nodeclasses WHERE name = ?", (name,)).fetchone():
        raise inv.fail(f"Node class {name} does not exist.", 2)


def _members(inv: Invocation, spec: str | None) -> list[str]:
    if spec is None:
        raise UsageError("Missing arguments.")
    nodes = inv.node_names(spec)
    if not nodes:
        raise inv.fail(f"No nodes were specified by {spec!r}.", 22)
    return nodes


_NODE_SPEC = "-N {Node[,Node...] | NodeFile | NodeClass}"


@command("mmcrnodeclass", f"mmcrnodeclass ClassName {_NODE_SPEC}", valued=("-N",),
         min_operands=1, max_operands=1, changing=True)
def mmcrnodeclass(inv: Invocation, args: Parsed) -> None:
    name = args.operands[0]
    _check_new_name(inv, name)
    nodes = _members(inv, args.get("-N"))
    inv.db.execute("INSERT INTO nodeclasses (name) VALUES (?)", (name,))
    inv.db.executemany("INSERT INTO nodeclass_members (class, node) VALUES (?, ?)",
                       [(name, n) for n in nodes])
    propagating(inv)


@command("mmchnodeclass", f"mmchnodeclass ClassName {{add | delete | replace}} {_NODE_SPEC}",
         valued=("-N",), min_operands=2, max_operands=2, changing=True)
def mmchnodeclass(inv: Invocation, args: Parsed) -> None:
    name, action = args.operands
    if action not in ("add", "delete", "replace"):
        raise UsageError(f"Incorrect action {action}: expected add, delete or replace.")
    _existing(inv, name)
    nodes = _members(inv, args.get("-N"))
    current = user_classes(inv.db).get(name, [])
    if action == "add":
        present = [n for n in nodes if n in current]
        if present:
            raise inv.fail(f"Node {', '.join(present)} is already a member of node class "
                           f"{name}.", 17)
        inv.db.executemany("INSERT INTO nodeclass_members (class, node) VALUES (?, ?)",
                           [(name, n) for n in nodes])
    elif action == "delete":
        absent = [n for n in nodes if n not in current]
        if absent:
            raise inv.fail(f"Node {', '.join(absent)} is not a member of node class {name}.",
                           2)
        if len(set(nodes)) == len(current):
            raise inv.fail(f"Deleting every member would leave node class {name} empty; use "
                           "mmdelnodeclass to delete it.", 22)
        inv.db.executemany("DELETE FROM nodeclass_members WHERE class = ? AND node = ?",
                           [(name, n) for n in nodes])
    else:
        inv.db.execute("DELETE FROM nodeclass_members WHERE class = ?", (name,))
        inv.db.executemany("INSERT INTO nodeclass_members (class, node) VALUES (?, ?)",
                           [(name, n) for n in nodes])
    propagating(inv)


@command("mmdelnodeclass", "mmdelnodeclass ClassName[,ClassName...]", min_operands=1,
         max_operands=1, changing=True)
def mmdelnodeclass(inv: Invocation, args: Parsed) -> None:
    names = [n for n in args.operands[0].split(",") if n]
    if not names:
        raise UsageError("Missing arguments.")
    for name in names:
        _existing(inv, name)
    for name in names:
        inv.db.execute("DELETE FROM nodeclasses WHERE name = ?", (name,))
    propagating(inv)


_LS_COLUMNS = ["nodeclass", "type", "members"]


@command("mmlsnodeclass", "mmlsnodeclass [ClassName[,ClassName...] | --all | --user | "
         "--system] [-Y]", flags=("--all", "--user", "--system", "-Y"), max_operands=1)
def mmlsnodeclass(inv: Invocation, args: Parsed) -> None:
    users = user_classes(inv.db)
    systems = system_classes(inv.db)
    picked: list[tuple[str, str, list[str]]] = []
    if args.operands:
        if args.has("--all", "--user", "--system"):
            raise UsageError("Class names cannot be combined with --all, --user or --system.")
        for name in (n for n in args.operands[0].split(",") if n):
            if name in users:
                picked.append((name, "user", users[name]))
            elif name in systems:
                picked.append((name, "system", systems[name]))
            else:
                raise inv.fail(f"Node class {name} does not exist.", 2)
    else:
        if args.has("--all", "--user") or not args.has("--system"):
            picked.extend((n, "user", m) for n, m in users.items())
        if args.has("--all", "--system"):
            picked.extend((n, "system", m) for n, m in systems.items())
    if args.has("-Y"):
        inv.out.write(ytable("mmlsnodeclass", "", _LS_COLUMNS,
                             [[n, t, ",".join(m)] for n, t, m in picked]))
        return
    inv.say(f"{'Node Class Name':<21} Members")
    inv.say(f"{'-' * 21} {'-' * 59}")
    for name, _, members in picked:
        inv.say(f"{name:<21} {','.join(members)}".rstrip())
