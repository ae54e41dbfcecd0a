"""The GPFS daemon on the nodes: mmstartup, mmshutdown, mmchnode.

Node quorum is modelled: a majority of the quorum nodes must run GPFS. While it is missing the
running nodes are ``arbitrating`` and have no file system mounted; when it returns they become
``active`` again and mount the file systems whose automount setting is ``yes``. ``mmshutdown``
of a subset of the nodes that would lose quorum for the remaining ones is refused unless
``--accept`` is given (the real command asks for confirmation there). The cluster manager and
the file system managers move to a running manager node when their node stops.

Callback events (``events``): preStartup/preShutdown run on the nodes concerned before
anything changes (a vetoing synchronous callback refuses the command), then startup,
shutdown, nodeJoin, nodeLeave and the quorum events follow from the node states before and
after; mounts and unmounts raise their own events (``mounting``).
"""

from __future__ import annotations

import re
import sqlite3

from gpfskit.emulator import events
from gpfskit.emulator.args import Parsed, UsageError, is_digits
from gpfskit.emulator.dispatch import CommandError, Invocation, command
from gpfskit.emulator.mounting import Mounter, MountProblem
from gpfskit.emulator.output import banner_time

_NODE_SPEC = "-N {Node[,Node...] | NodeFile | NodeClass}"
HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")
IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|"
                  r"[1-9]?\d)$")


def propagating(inv: Invocation) -> None:
    """The notice the configuration-changing commands end with."""
    inv.warn(f"{inv.name}: Propagating the cluster configuration data to all\n"
             "  affected nodes.  This is an asynchronous process.")


def _nodes(db: sqlite3.Connection) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM nodes ORDER BY number").fetchall()


def quorum_holds(designations: dict[str, str], states: dict[str, str]) -> bool:
    """True when a majority of the quorum nodes runs GPFS (active or arbitrating)."""
    quorum = [n for n, d in designations.items() if d.startswith("quorum")]
    if not quorum:
        return True
    up = sum(1 for n in quorum if states.get(n) in ("active", "arbitrating"))
    return up >= len(quorum) // 2 + 1


def target_nodes(inv: Invocation, args: Parsed) -> list[str]:
    """``-a`` = every node, ``-N`` = the spec (no ``mount`` class), default the local node."""
    if args.has("-a") and args.has("-N"):
        raise UsageError("Options -a and -N cannot be used together.")
    if args.has("-a"):
        return [n["name"] for n in _nodes(inv.db)]
    spec = args.get("-N")
    if spec is not None and any(item.lower() == "mount" for item in spec.split(",")):
        raise CommandError(f"{inv.name}: The node class mount is not valid for this command.",
                           22)
    return inv.node_names(spec)


def settle_quorum(inv: Invocation, mounter: Mounter) -> list[str]:
    """Bring node states in line with quorum; returns the nodes that became active."""
    nodes = _nodes(inv.db)
    designations = {n["name"]: n["designation"] for n in nodes}
    states = {n["name"]: n["state"] for n in nodes}
    if quorum_holds(designations, states):
        woken = [n for n, s in states.items() if s == "arbitrating"]
        inv.db.execute("UPDATE nodes SET state = 'active' WHERE state = 'arbitrating'")
        return woken
    stalled = [n for n, s in states.items() if s == "active"]
    inv.db.execute("UPDATE nodes SET state = 'arbitrating' WHERE state = 'active'")
    _unmount_everything(inv, mounter, stalled)
    return []


def _unmount_everything(inv: Invocation, mounter: Mounter, nodes: list[str]) -> None:
    if not nodes:
        return
    for fs in inv.db.execute("SELECT name FROM filesystems ORDER BY name").fetchall():
        try:
            mounter.unmount(fs["name"], nodes, force=True)
        except MountProblem as exc:
            raise inv.fail(f"Cannot unmount file system {fs['name']}: {exc}", 16) from exc


def _automount(inv: Invocation, mounter: Mounter, nodes: list[str]) -> None:
    """Mount the ``-A yes`` file systems on ``nodes``; problems are reported, not fatal."""
    if not nodes:
        return
    for fs in inv.db.execute("SELECT name FROM filesystems WHERE automount = 'yes' "
                             "ORDER BY name").fetchall():
        try:
            mounter.mount(fs["name"], nodes)
        except MountProblem as exc:
            inv.warn(f"{inv.name}: Cannot mount file system {fs['name']}: {exc}")


def _reassign_managers(inv: Invocation) -> None:
    """The cluster and file system managers run on active manager nodes where possible."""
    nodes = _nodes(inv.db)
    active = {n["name"] for n in nodes if n["state"] == "active"}
    candidates = [n["name"] for n in nodes if n["state"] == "active"
                  and n["designation"] in ("quorumManager", "manager")]
    if not candidates:
        return
    cluster = inv.db.execute("SELECT manager_node FROM cluster").fetchone()
    if cluster is not None and cluster["manager_node"] not in active:
        inv.db.execute("UPDATE cluster SET manager_node = ?", (candidates[0],))
    for fs in inv.db.execute("SELECT name, manager_node FROM filesystems").fetchall():
        if fs["manager_node"] not in active:
            inv.db.execute("UPDATE filesystems SET manager_node = ? WHERE name = ?",
                           (candidates[0], fs["name"]))


@command("mmstartup", f"mmstartup [-a | {_NODE_SPEC}] [-E EnvVar=value ...]",
         flags=("-a",), valued=("-N", "-E"), max_operands=0, changing=True)
def mmstartup(inv: Invocation, args: Parsed) -> None:
    for env in args.all("-E"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=[^\n\0]*", env):
            raise inv.fail(f"Incorrect environment setting {env!r}: expected EnvVar=value.",
                           22)
    nodes = target_nodes(inv, args)
    states = {n["name"]: n["state"] for n in _nodes(inv.db)}
    starting = [n for n in nodes if states.get(n) == "down"]
    inv.say(f"{banner_time()}: mmstartup: Starting GPFS ...")
    events.require(inv, "preStartup", starting, stopped="GPFS was not started.")
    before = events.daemon_state(inv)
    mounter = Mounter(inv)
    for node in starting:
        inv.db.execute("UPDATE nodes SET state = 'arbitrating' WHERE name = ?", (node,))
    woken = settle_quorum(inv, mounter)
    _reassign_managers(inv)
    _automount(inv, mounter, [n for n in _order(inv, set(starting) | set(woken))])
    mounter.apply()
    events.daemon_changes(inv, before)


def _order(inv: Invocation, names: set[str]) -> list[str]:
    return [n["name"] for n in _nodes(inv.db) if n["name"] in names]


@command("mmshutdown", f"mmshutdown [-t UnmountTimeout] [-a | {_NODE_SPEC}] [--accept]",
         flags=("-a", "--accept"), valued=("-N", "-t"), max_operands=0, changing=True)
def mmshutdown(inv: Invocation, args: Parsed) -> None:
    timeout = args.get("-t")
    if timeout is not None and (not is_digits(timeout) or int(timeout) > 86400):
        raise inv.fail(f"Incorrect unmount timeout {timeout!r}: expected seconds.", 22)
    nodes = target_nodes(inv, args)
    everyone = _nodes(inv.db)
    designations = {n["name"]: n["designation"] for n in everyone}
    states = {n["name"]: n["state"] for n in everyone}
    after = {n: ("down" if n in nodes else s) for n, s in states.items()}
    staying = [n for n, s in after.items() if s == "active"]
    if (staying and quorum_holds(designations, states)
            and not quorum_holds(designations, after) and not args.has("--accept")):
        raise inv.fail("Shutting down " + ", ".join(nodes) + " would cause the remaining "
                       "nodes (" + ", ".join(staying) + ") to lose quorum. Use --accept to "
                       "shut down anyway.", 1)
    events.require(inv, "preShutdown", [n for n in nodes if states.get(n) != "down"],
                   stopped="GPFS was not shut down.")
    before = events.daemon_state(inv)
    mounter = Mounter(inv)
    inv.say(f"{banner_time()}: mmshutdown: Starting force unmount of GPFS file systems")
    _unmount_everything(inv, mounter, nodes)
    inv.say(f"{banner_time()}: mmshutdown: Shutting down GPFS daemons")
    for node in nodes:
        if states.get(node) != "down":
            inv.say(f"{node}:  Shutting down!")
        inv.db.execute("UPDATE nodes SET state = 'down' WHERE name = ?", (node,))
    settle_quorum(inv, mounter)
    _reassign_managers(inv)
    mounter.apply()
    events.daemon_changes(inv, before)
    inv.say(f"{banner_time()}: mmshutdown: Finished")


_CHNODE_USAGE = f"""mmchnode change-options {_NODE_SPEC}
  change-options: [--quorum | --nonquorum] [--manager | --client] [--perfmon | --noperfmon]
                  [--admin-interface={{hostname | ip_address}}]
                  [--daemon-interface={{hostname | ip_address}}]"""


@command("mmchnode", _CHNODE_USAGE,
         flags=("--quorum", "--nonquorum", "--manager", "--client", "--perfmon", "--noperfmon"),
         valued=("-N", "--admin-interface", "--daemon-interface"), max_operands=0,
         changing=True)
def mmchnode(inv: Invocation, args: Parsed) -> None:
    if not args.has("-N"):
        raise UsageError("Missing arguments.")
    changes = ("--quorum", "--nonquorum", "--manager", "--client", "--perfmon", "--noperfmon",
               "--admin-interface", "--daemon-interface")
    if not args.has(*changes):
        raise UsageError("No change options specified.")
    for a, b in (("--quorum", "--nonquorum"), ("--manager", "--client"),
                 ("--perfmon", "--noperfmon")):
        if args.has(a) and args.has(b):
            raise inv.fail(f"Options {a} and {b} cannot be used together.", 22)
    nodes = inv.node_names(args.get("-N"))
    if not nodes:
        raise inv.fail("No nodes were specified.", 22)
    everyone = _nodes(inv.db)
    rows = {n["name"]: n for n in everyone}
    designations = {n["name"]: n["designation"] for n in everyone}
    for node in nodes:
        quorum = designations[node].startswith("quorum")
        manager = designations[node] in ("quorumManager", "manager")
        quorum = True if args.has("--quorum") else False if args.has("--nonquorum") else quorum
        manager = True if args.has("--manager") else False if args.has("--client") else manager
        designations[node] = ("quorumManager" if quorum and manager else "quorum" if quorum
                              else "manager" if manager else "")
    states = {n["name"]: n["state"] for n in everyone}
    if not any(d.startswith("quorum") for d in designations.values()):
        raise inv.fail("The cluster must have at least one quorum node.", 22)
    if quorum_holds({n["name"]: n["designation"] for n in everyone}, states) and \
            not quorum_holds(designations, states):
        raise inv.fail("The change would cause the cluster to lose quorum.", 22)

    admin = args.get("--admin-interface")
    daemon = args.get("--daemon-interface")
    if (admin is not None or daemon is not None) and len(nodes) != 1:
        raise inv.fail("The --admin-interface and --daemon-interface options apply to a "
                       "single node.", 22)
    for option, value in (("--admin-interface", admin), ("--daemon-interface", daemon)):
        if value is not None and not (IPV4.match(value) or HOST.match(value)):
            raise inv.fail(f"Incorrect host name or IP address for {option}: {value!r}.", 22)
    new_name = new_ip = None
    if daemon is not None:
        node = nodes[0]
        if IPV4.match(daemon):
            new_ip = daemon
            if any(n["ip"] == daemon and n["name"] != node for n in everyone):
                raise inv.fail(f"IP address {daemon} is already used by another node.", 17)
        else:
            new_name = daemon
            if daemon != node and daemon in rows:
                raise inv.fail(f"Node {daemon} is already defined in the cluster.", 17)
        if rows[node]["state"] != "down" and (new_name or new_ip) and (
                new_name not in (None, node) or new_ip not in (None, rows[node]["ip"])):
            raise inv.fail(f"GPFS must be shut down on node {node} to change its daemon "
                           "interface.", 16)

    for node in nodes:
        roles = [r for r in rows[node]["roles"].split(",") if r]
        if args.has("--perfmon") and "Z" not in roles:
            roles.append("Z")
        if args.has("--noperfmon"):
            roles = [r for r in roles if r != "Z"]
        inv.db.execute("UPDATE nodes SET designation = ?, roles = ? WHERE name = ?",
                       (designations[node], ",".join(roles), node))
        inv.say(f"{banner_time()}: mmchnode: Processing node {node}")
    if admin is not None:
        inv.db.execute("UPDATE nodes SET admin_name = ? WHERE name = ?", (admin, nodes[0]))
    if new_ip is not None:
        inv.db.execute("UPDATE nodes SET ip = ? WHERE name = ?", (new_ip, nodes[0]))
    if new_name is not None and new_name != nodes[0]:
        rename_node(inv.db, nodes[0], new_name)
    mounter = Mounter(inv)
    settle_quorum(inv, mounter)
    _reassign_managers(inv)
    mounter.apply()
    propagating(inv)


def rename_node(db: sqlite3.Connection, old: str, new: str) -> None:
    """A node's daemon name changes: every table that names the node follows."""
    admin = db.execute("SELECT admin_name FROM nodes WHERE name = ?", (old,)).fetchone()
    db.execute("UPDATE nodes SET name = ? WHERE name = ?", (new, old))
    if admin is not None and admin["admin_name"] == old:
        db.execute("UPDATE nodes SET admin_name = ? WHERE name = ?", (new, new))
    db.execute("UPDATE mounts SET node = ? WHERE node = ?", (new, old))
    db.execute("UPDATE nodeclass_members SET node = ? WHERE node = ?", (new, old))
    for column in ("primary_server", "secondary_server", "manager_node"):
        db.execute(f"UPDATE cluster SET {column} = ? WHERE {column} = ?", (new, old))
    db.execute("UPDATE filesystems SET manager_node = ? WHERE manager_node = ?", (new, old))
    db.execute("UPDATE policies SET installed_node = ? WHERE installed_node = ?", (new, old))
    for nsd in db.execute("SELECT name, servers FROM nsds").fetchall():
        servers = nsd["servers"].split(",")
        if old in servers:
            db.execute("UPDATE nsds SET servers = ? WHERE name = ?",
                       (",".join(new if s == old else s for s in servers), nsd["name"]))
