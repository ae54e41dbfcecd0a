"""Cluster-wide queries: mmlscluster, mmlsnode, mmgetstate."""

from __future__ import annotations

from gpfskit.emulator.args import Parsed
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import text_table, ytable

_TEXT_DESIGNATION = {"quorumManager": "quorum-manager", "quorum": "quorum",
                     "manager": "manager", "": ""}

_SUMMARY_COLUMNS = ["clusterName", "clusterId", "uidDomain", "rshPath", "rshSudoWrapper",
                    "rcpPath", "rcpSudoWrapper", "repositoryType", "primaryServer",
                    "secondaryServer"]
_NODE_COLUMNS = ["nodeNumber", "daemonNodeName", "ipAddress", "adminNodeName", "designation",
                 "otherNodeRoles", "adminLoginName", "otherNodeRolesAlias"]


@command("mmlscluster", "mmlscluster [-Y] [--ces | --cnfs | --cloud-gateway | --comment]",
         flags=("-Y", "--ces", "--cnfs", "--cloud-gateway", "--comment"), max_operands=0)
def mmlscluster(inv: Invocation, args: Parsed) -> None:
    cluster = inv.db.execute("SELECT * FROM cluster").fetchone()
    nodes = inv.db.execute("SELECT * FROM nodes ORDER BY number").fetchall()
    if args.has("-Y"):
        inv.out.write(ytable("mmlscluster", "clusterSummary", _SUMMARY_COLUMNS, [[
            cluster["name"], cluster["cluster_id"], cluster["uid_domain"], cluster["rsh_path"],
            "no", cluster["rcp_path"], "no", cluster["repository_type"],
            cluster["primary_server"], cluster["secondary_server"]]],
            raw=("rshPath", "rcpPath")))
        inv.out.write(ytable("mmlscluster", "clusterNode", _NODE_COLUMNS, [
            [n["number"], n["name"], n["ip"], n["admin_name"], n["designation"], n["roles"],
             "", ""] for n in nodes]))
        return
    inv.say("\nGPFS cluster information\n========================")
    for label, value in [("GPFS cluster name:", cluster["name"]),
                         ("GPFS cluster id:", cluster["cluster_id"]),
                         ("GPFS UID domain:", cluster["uid_domain"]),
                         ("Remote shell command:", cluster["rsh_path"]),
                         ("Remote file copy command:", cluster["rcp_path"]),
                         ("Repository type:", cluster["repository_type"])]:
        inv.say(f"  {label:<27}{value}")
    inv.say("")
    table = text_table(
        ["Node", "Daemon node name", "IP address", "Admin node name", "Designation"],
        [[n["number"], n["name"], n["ip"], n["admin_name"],
          _TEXT_DESIGNATION.get(n["designation"], n["designation"])] for n in nodes],
        align="rllll", gap=2)
    lines = table.splitlines()
    inv.say(" " + lines[0])
    inv.say("-" * max(len(line) for line in lines))
    for line in lines[1:]:
        inv.say(" " + line)


@command("mmlsnode", "mmlsnode [-N {Node[,Node...] | NodeFile | NodeClass}]", valued=("-N",),
         max_operands=0)
def mmlsnode(inv: Invocation, args: Parsed) -> None:
    cluster = inv.db.execute("SELECT name FROM cluster").fetchone()
    names = inv.node_names(args.get("-N") or "all")
    inv.say("GPFS nodeset    Node list")
    inv.say("-------------   -------------------------------------------------------")
    inv.say(f"   {cluster['name']:<13}{' '.join(names)}")


_STATE_COLUMNS = ["nodeName", "nodeNumber", "state", "quorum", "nodesUp", "totalNodes",
                  "remarks", "cnfsState", "daemonShortName"]


@command("mmgetstate",
         "mmgetstate [-L] [-s] [-v] [-Y] [-a | -N {Node[,Node...] | NodeFile | NodeClass}]",
         flags=("-L", "-s", "-v", "-Y", "-a", "--fqdn"), valued=("-N",), max_operands=0)
def mmgetstate(inv: Invocation, args: Parsed) -> None:
    everyone = inv.db.execute("SELECT * FROM nodes ORDER BY number").fetchall()
    if args.has("-a"):
        wanted = [n["name"] for n in everyone]
    else:
        wanted = inv.node_names(args.get("-N"))
    quorum_nodes = [n for n in everyone if n["designation"].startswith("quorum")]
    quorum = len(quorum_nodes) // 2 + 1
    up = sum(1 for n in everyone if n["state"] == "active")
    rows = [n for n in everyone if n["name"] in wanted]
    if args.has("-Y"):
        inv.out.write(ytable("mmgetstate", "", _STATE_COLUMNS, [
            [n["name"], n["number"], n["state"], quorum, up, len(everyone),
             "quorum node" if n["designation"].startswith("quorum") else "", "(undefined)",
             n["name"]] for n in rows], raw=("cnfsState",)))  # real output: '(undefined)'
        return
    if args.has("-L"):
        table = text_table(
            ["Node number", "Node name", "Quorum", "Nodes up", "Total nodes", "GPFS state",
             "Remarks"],
            [[n["number"], n["name"], quorum, up, len(everyone), n["state"],
              "quorum node" if n["designation"].startswith("quorum") else ""] for n in rows],
            align="rlrrrll", gap=2)
    else:
        table = text_table(["Node number", "Node name", "GPFS state"],
                           [[n["number"], n["name"], n["state"]] for n in rows],
                           align="rll", gap=2)
    lines = table.splitlines()
    inv.say("")
    inv.say(" " + lines[0])
    inv.say("-" * (max(len(line) for line in lines) + 2))
    for line in lines[1:]:
        inv.say(" " + line)
    if args.has("-s"):
        inv.say("\n Summary information \n---------------------")
        inv.say(f"Number of nodes defined in the cluster:            {len(everyone)}")
        inv.say(f"Number of local nodes active in the cluster:       {up}")
        inv.say(f"Number of quorum nodes defined in the cluster:     {len(quorum_nodes)}")


@command("mmlsmgr", "mmlsmgr [Device [Device...]] [-c] [-Y]", flags=("-c", "-Y"))
def mmlsmgr(inv: Invocation, args: Parsed) -> None:
    cluster = inv.db.execute("SELECT manager_node FROM cluster").fetchone()
    ips = {r["name"]: r["ip"] for r in inv.db.execute("SELECT name, ip FROM nodes")}
    manager = cluster["manager_node"]
    filesystems = [fs for device in (args.operands or ["all"]) for fs in inv.filesystems(device)]
    if args.has("-Y"):
        inv.out.write(ytable("mmlsmgr", "clusterManager", ["manager"], [[manager]]))
        if not args.has("-c"):
            inv.out.write(ytable("mmlsmgr", "filesystemManager",
                                 ["filesystem", "manager", "managerIP"],
                                 [[fs["name"], fs["manager_node"], ips.get(fs["manager_node"])]
                                  for fs in filesystems]))
        return
    if not args.has("-c"):
        inv.say("file system      manager node")
        inv.say("---------------- ------------------")
        for fs in filesystems:
            node = fs["manager_node"]
            shown = f"{ips.get(node)} ({node})" if node else "(none)"
            inv.say(f"{fs['name']:<16} {shown}")
        inv.say("")
    inv.say(f"Cluster manager node: {ips.get(manager)} ({manager})")
