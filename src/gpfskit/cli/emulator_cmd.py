"""``gpfskit emulator``: create an emulated cluster and reach its commands from a shell."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from gpfskit.config import config
from gpfskit.emulator.state import DB_NAME

app = typer.Typer(help="Create and use an emulated cluster (mm* commands over a directory tree).",
                  no_args_is_help=True, rich_markup_mode=None)

REAL_COMMANDS = Path("/usr/lpp/mmfs/bin/mmlscluster")


_SHIM_CODE = "from gpfskit.cli.mm import main; main()"


def write_shims(root: Path) -> Path:
    """Create ``<root>/bin`` with one small script per emulated command, named like it.

    A shim starts Python with ``-P`` (nothing from the current directory is importable) and
    ``-c`` rather than ``-m``, which would load runpy first: a shell's command starts faster.
    """
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    from gpfskit.emulator.dispatch import commands  # every family: only when writing shims

    for name in commands():
        shim = bin_dir / name
        shim.write_text("#!/bin/sh\n"
                        f"exec {shlex.quote(sys.executable)} -P -c {shlex.quote(_SHIM_CODE)} "
                        f"{shlex.quote('--root=' + str(root))} {shlex.quote(name)} \"$@\"\n")
        shim.chmod(0o755)
    return bin_dir


@app.command("init")
def init(
    demo: bool = typer.Option(False, "--demo", help="create the demo cluster (democluster: "
                              "node1-3, mmfs1 with pools system/sas1/sata1 and a small "
                              "tree of files, mmfs2)"),
    root: Path = typer.Option(None, "--root", metavar="DIR",
                              help="directory for the cluster's state and file systems "
                              "[default: gpfskit.emulator.root]"),
    mount_prefix: Path = typer.Option(None, "--mount-prefix", metavar="PREFIX",
                                      help="file systems mount at PREFIX/<name> "
                                      "[default: ROOT/gpfs]"),
) -> None:
    """Create an emulated cluster and make it the configured backend."""
    root = (root or Path(config["gpfskit.emulator.root"])).absolute()
    if (root / DB_NAME).exists():
        typer.echo(f"error: {root} already holds an emulated cluster", err=True)
        raise typer.Exit(1)
    from gpfskit.emulator.setup import DEMO, ClusterSpec, add_demo_files, init_cluster

    init_cluster(root, DEMO if demo else ClusterSpec(filesystems=()), mount_prefix=mount_prefix)
    if demo:
        add_demo_files(root)
    write_shims(root)
    config["gpfskit.emulator.root"] = str(root)
    config["gpfskit.cluster.backend"] = "emulated"
    typer.echo(f"Created {'demo ' if demo else ''}cluster in {root}")
    typer.echo("Use its commands by their real names with: eval \"$(gpfskit emulator env)\"")


@app.command("env")
def env(force: bool = typer.Option(False, "--force", help="also when real Storage Scale "
                                   "commands are installed on this machine")) -> None:
    """Print the shell line that puts the emulated mm* commands on PATH (for eval)."""
    if REAL_COMMANDS.exists() and not force:
        typer.echo("error: Storage Scale is installed here; the emulated commands would shadow "
                   "it (use --force for this shell only)", err=True)
        raise typer.Exit(1)
    root = Path(config["gpfskit.emulator.root"])
    if not (root / DB_NAME).exists():
        typer.echo(f"error: no emulated cluster at {root} (run: gpfskit emulator init --demo)",
                   err=True)
        raise typer.Exit(1)
    bin_dir = write_shims(root)
    path = os.environ.get("PATH", "")
    typer.echo(f"export PATH={shlex.quote(str(bin_dir))}:{shlex.quote(path)}")
