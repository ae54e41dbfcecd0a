"""``gpfskit tour``: what ``make run`` shows - the cluster at a glance.

On the emulated backend it first creates the demo cluster when there is none, so a fresh
machine has something to look at.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gpfskit.config import config
from gpfskit.emulator.state import DB_NAME

if TYPE_CHECKING:
    from rich.console import Console


def ensure_demo(say: Callable[[str], None]) -> None:
    """On the emulated backend, create the demo cluster when there is none; ``say(text)``
    tells the user which cluster is used."""
    if config["gpfskit.cluster.backend"] != "emulated":
        return
    root = Path(config["gpfskit.emulator.root"])
    if (root / DB_NAME).exists():
        say(f"Emulated cluster: {root}")
        return
    from gpfskit.cli.emulator_cmd import select, write_shims
    from gpfskit.emulator.setup import add_demo_files, init_cluster

    init_cluster(root)
    add_demo_files(root)
    write_shims(root)
    select(root)
    say(f"Created the demo emulated cluster in {root}")


def overview() -> dict[str, Any]:
    """The cluster at a glance, as ``gpfskit tour --json`` prints it."""
    from gpfskit.api import Cluster

    cluster = Cluster()
    return {
        "cluster": {"name": cluster.name, "id": cluster.clusterId},
        "nodes": [{"name": node.name, "designation": node.designation or "client",
                   "state": node.state} for node in cluster.nodes.values()],
        "filesystems": [{
            "name": fs.name, "mount_point": fs.mountPoint,
            "pools": [{"name": pool.name, "data": bool(pool.data),
                       "metadata": bool(pool.metadata), "total_kb": pool.totalDataKB,
                       "free_kb": pool.freeDataKB} for pool in fs.pools.values()],
            "filesets": [{"name": fileset.name, "status": fileset.status,
                          "path": fileset.path or None, "inode_space": fileset.inodeSpace}
                         for fileset in fs.filesets.values()],
        } for fs in cluster.filesystems.values()],
    }


def tour(as_json: bool = typer.Option(False, "--json", help="print a JSON document")) -> None:
    """Show the cluster: nodes, file systems, pools and filesets (creating the demo if needed)."""
    from rich.console import Console

    if as_json:
        errors = Console(stderr=True)
        ensure_demo(lambda text: errors.print(text, soft_wrap=True, markup=False))
        typer.echo(json.dumps(overview(), indent=2))
        return
    console = Console()
    ensure_demo(lambda text: console.print(text, soft_wrap=True, markup=False))
    _print(console, overview())
    console.print("\nTry it from Python:\n"
                  "  [cyan].venv/bin/python -c \"from arcapix.fs.gpfs import Cluster; "
                  "print(Cluster().filesystems)\"[/cyan]\n"
                  "Or the admin commands by their real names:\n"
                  "  [cyan]eval \"$(.venv/bin/gpfskit emulator env)\"; mmlsfileset mmfs1 -L"
                  "[/cyan]", soft_wrap=True)


def _print(console: Console, data: dict[str, Any]) -> None:
    """The overview as tables; titles are short lines of their own, so they never wrap."""
    from rich.markup import escape
    from rich.table import Table

    def table(title: str, *headings: str, right: tuple[str, ...] = ()) -> Table:
        console.print(f"\n[bold]{escape(title)}[/bold]", soft_wrap=True)
        made = Table()
        for heading in headings:
            made.add_column(heading, justify="right" if heading in right else "left",
                            overflow="fold")
        return made

    cluster = data["cluster"]
    console.print(f"\nCluster [bold]{escape(cluster['name'])}[/bold] (id {cluster['id']})")
    nodes = table("Nodes", "node", "designation", "state")
    for node in data["nodes"]:
        nodes.add_row(node["name"], node["designation"], node["state"])
    console.print(nodes)
    systems = table("File systems", "file system", "mount point")
    for fs in data["filesystems"]:
        systems.add_row(fs["name"], escape(fs["mount_point"] or "--"))
    console.print(systems)
    for fs in data["filesystems"]:
        pools = table(f"{fs['name']}: pools", "pool", "data", "metadata", "size (GiB)",
                      "free (GiB)", right=("size (GiB)", "free (GiB)"))
        for pool in fs["pools"]:
            pools.add_row(pool["name"], _yes(pool["data"]), _yes(pool["metadata"]),
                          f"{pool['total_kb'] / 2**20:,.0f}", f"{pool['free_kb'] / 2**20:,.0f}")
        console.print(pools)
        filesets = table(f"{fs['name']}: filesets", "fileset", "status", "path", "inode space")
        for fileset in fs["filesets"]:
            filesets.add_row(escape(fileset["name"]), fileset["status"],
                             escape(fileset["path"] or "--"), str(fileset["inode_space"]))
        console.print(filesets)


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    typer.run(tour)
