"""The system node classes, computed from the nodes table (designations, roles, NSD servers)."""

from __future__ import annotations

import sqlite3


def system_classes(db: sqlite3.Connection) -> dict[str, list[str]]:
    """The system node classes and their members, computed from the node table."""
    nodes = db.execute("SELECT * FROM nodes ORDER BY number").fetchall()
    servers: set[str] = set()
    for nsd in db.execute("SELECT servers FROM nsds"):
        servers.update(s for s in nsd["servers"].split(",") if s)

    def where(test) -> list[str]:
        return [n["name"] for n in nodes if test(n)]

    def roles(n: sqlite3.Row) -> set[str]:
        return {r.strip() for r in n["roles"].split(",")}

    return {
        "aixNodes": [],
        "cesNodes": where(lambda n: bool(roles(n) & {"X", "ces"})),
        "clientNodes": where(lambda n: n["designation"] in ("", "quorum")),
        "linuxNodes": where(lambda n: True),
        "managerNodes": where(lambda n: n["designation"] in ("quorumManager", "manager")),
        "nonQuorumNodes": where(lambda n: not n["designation"].startswith("quorum")),
        "nsdNodes": where(lambda n: n["name"] in servers),
        "quorumNodes": where(lambda n: n["designation"].startswith("quorum")),
        "windowsNodes": [],
    }
