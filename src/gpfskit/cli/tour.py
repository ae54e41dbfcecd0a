"""``gpfskit tour``: what ``make run`` shows - the cluster at a glance.

On the emulated backend it first creates the demo cluster when there is none, so a fresh
machine has something to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gpfskit.config import config
from gpfskit.emulator.state import DB_NAME

if TYPE_CHECKING:
    from rich.console import Console


def _ensure_demo(console: Console) -> None:
    if config["gpfskit.cluster.backend"] != "emulated":
        return
    root = Path(config["gpfskit.emulator.root"])
    if (root / DB_NAME).exists():
        console.print(f"Emulated cluster: [bold]{root}[/bold]")
        return
    from gpfskit.cli.emulator_cmd import select, write_shims
    from gpfskit.emulator.setup import add_demo_files, init_cluster

    init_cluster(root)
    add_demo_files(root)
    write_shims(root)
    select(root)
    console.print(f"Created the demo emulated cluster in [bold]{root}[/bold]")


def tour() -> None:
    """Show the cluster: nodes, file systems, pools and filesets (creating the demo if needed)."""
    from rich.console import Console
    from rich.table import Table

    from gpfskit.api import Cluster

    console = Console()
    _ensure_demo(console)
    cluster = Cluster()
    console.print(f"\nCluster [bold]{cluster.name}[/bold] (id {cluster.clusterId})\n")

    nodes = Table(title="Nodes")
    for heading in ("node", "designation", "state"):
        nodes.add_column(heading)
    for node in cluster.nodes.values():
        nodes.add_row(node.name, node.designation or "client", node.state)
    console.print(nodes)

    for fs in cluster.filesystems.values():
        pools = Table(title=f"File system {fs.name} at {fs.mountPoint}: pools")
        for heading, justify in (("pool", "left"), ("data", "left"), ("metadata", "left"),
                                 ("size (GiB)", "right"), ("free (GiB)", "right")):
            pools.add_column(heading, justify=justify)
        for pool in fs.pools.values():
            pools.add_row(pool.name, _yes(pool.data), _yes(pool.metadata),
                          f"{pool.totalDataKB / 2**20:,.0f}", f"{pool.freeDataKB / 2**20:,.0f}")
        console.print(pools)
        filesets = Table(title=f"File system {fs.name}: filesets")
        for heading in ("fileset", "status", "path", "inode space"):
            filesets.add_column(heading)
        for fileset in fs.filesets.values():
            filesets.add_row(fileset.name, fileset.status, fileset.path or "--",
                             str(fileset.inodeSpace))
        console.print(filesets)

    console.print("\nTry it from Python:\n"
                  "  [cyan].venv/bin/python -c \"from arcapix.fs.gpfs import Cluster; "
                  "print(Cluster().filesystems)\"[/cyan]\n"
                  "Or the admin commands by their real names:\n"
                  "  [cyan]eval \"$(.venv/bin/gpfskit emulator env)\"; mmlsfileset mmfs1 -L"
                  "[/cyan]", soft_wrap=True)


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    typer.run(tour)
