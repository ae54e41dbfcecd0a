"""``gpfskit emulator``: create an emulated cluster and reach its commands from a shell."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
from pathlib import Path

import typer

from gpfskit.config import config, config_dir
from gpfskit.emulator.state import DB_NAME

app = typer.Typer(help="Create and use an emulated cluster (mm* commands over a directory tree).",
                  no_args_is_help=True, rich_markup_mode=None)

REAL_COMMANDS = Path("/usr/lpp/mmfs/bin/mmlscluster")


_SHIM_CODE = "from gpfskit.cli.mm import main; main()"


def write_shims(root: Path, *, explicit: bool = False) -> Path:
    """Create ``<root>/bin`` with one small script per emulated command, named like it.

    A shim answers from the cluster configured when it runs (``gpfskit.emulator.root``), so
    ``gpfskit emulator use`` moves every shell's commands along; with ``explicit`` it answers
    from ``root`` always. It starts Python with ``-P`` (nothing from the current directory is
    importable) and ``-c`` rather than ``-m``, which would load runpy first: a shell's command
    starts faster.
    """
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    from gpfskit.emulator.dispatch import commands  # every family: only when writing shims

    fixed = f" {shlex.quote('--root=' + str(root))}" if explicit else ""
    for name in commands():
        shim = bin_dir / name
        shim.write_text("#!/bin/sh\n"
                        f"exec {shlex.quote(sys.executable)} -P -c {shlex.quote(_SHIM_CODE)}"
                        f"{fixed} {shlex.quote(name)} \"$@\"\n")
        shim.chmod(0o755)
    return bin_dir


def _remember(root: Path) -> None:
    """Add ``root`` to the clusters ``gpfskit emulator list`` shows."""
    known = [str(p) for p in config["gpfskit.emulator.clusters"]]
    if str(root) not in known:
        config["gpfskit.emulator.clusters"] = [*known, str(root)]


def select(root: Path) -> None:
    """Make ``root`` the configured cluster (and one ``gpfskit emulator list`` shows)."""
    _remember(root)
    config["gpfskit.emulator.root"] = str(root)
    config["gpfskit.cluster.backend"] = "emulated"


def _cluster_at(text: str) -> Path:
    """The emulated cluster at ``text``, or exit 1 saying there is none."""
    root = Path(text).absolute()
    if not (root / DB_NAME).is_file():
        typer.echo(f"error: no emulated cluster at {root}", err=True)
        raise typer.Exit(1)
    return root


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
    previous = config["gpfskit.emulator.root"]
    select(root)
    typer.echo(f"Created {'demo ' if demo else ''}cluster in {root}")
    typer.echo(f"It is now the configured cluster (gpfskit.emulator.root in {config_dir()})"
               + (f"; it was {previous}" if previous != str(root) else "") + ".")
    typer.echo("Use its commands by their real names with: eval \"$(gpfskit emulator env)\"")


@app.command("env")
def env(force: bool = typer.Option(False, "--force", help="also when real Storage Scale "
                                   "commands are installed on this machine"),
        root: Path = typer.Option(None, "--root", metavar="DIR",
                                  help="commands that always answer from the cluster in DIR "
                                  "[default: the configured cluster, read when each runs]")
        ) -> None:
    """Print the shell line that puts the emulated mm* commands on PATH (for eval)."""
    if REAL_COMMANDS.exists() and not force:
        typer.echo("error: Storage Scale is installed here; the emulated commands would shadow "
                   "it (use --force for this shell only)", err=True)
        raise typer.Exit(1)
    where = Path(root or config["gpfskit.emulator.root"]).absolute()
    if not (where / DB_NAME).exists():
        typer.echo(f"error: no emulated cluster at {where} (run: gpfskit emulator init --demo)",
                   err=True)
        raise typer.Exit(1)
    bin_dir = write_shims(where, explicit=root is not None)
    path = os.environ.get("PATH", "")
    typer.echo(f"export PATH={shlex.quote(str(bin_dir))}:{shlex.quote(path)}")


@app.command("list")
def list_() -> None:
    """List the emulated clusters made or used here; * marks the configured one."""
    configured = Path(config["gpfskit.emulator.root"]).absolute()
    roots = [Path(p) for p in config["gpfskit.emulator.clusters"]]
    if configured not in roots and (configured / DB_NAME).is_file():
        roots.insert(0, configured)
    if not roots:
        typer.echo("No emulated cluster yet (make one with: gpfskit emulator init --demo)")
        return
    for root in roots:
        mark = "*" if root == configured else " "
        typer.echo(f"{mark} {root}  {_describe(root)}")


def _describe(root: Path) -> str:
    if not (root / DB_NAME).is_file():
        return "(missing)"
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{root / DB_NAME}?mode=ro",
                                                uri=True)) as db:
            name = db.execute("SELECT name FROM cluster").fetchone()
            filesystems = [row[0] for row in db.execute(
                "SELECT name FROM filesystems ORDER BY name")]
    except sqlite3.Error as exc:
        return f"(unreadable: {exc})"
    return f"{name[0] if name else '?'}: " + (", ".join(filesystems) or "no file systems")


@app.command("use")
def use(root: str = typer.Argument(..., metavar="DIR", help="directory of an emulated cluster")
        ) -> None:
    """Make the emulated cluster in DIR the configured one (Python, shims, gpfskit mm)."""
    where = _cluster_at(root)
    select(where)
    typer.echo(f"{where} is now the configured cluster.")


@app.command("destroy")
def destroy(root: str = typer.Argument(..., metavar="DIR",
                                       help="directory of an emulated cluster"),
            yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation")
            ) -> None:
    """Delete the emulated cluster in DIR: its state and every file in its file systems."""
    where = _cluster_at(root)
    from gpfskit.emulator import fileattrs, state

    db = state.connection(where)
    mounts = [Path(row[0]) for row in db.execute("SELECT mounted_at FROM filesystems")]
    state.forget_connections()
    outside = [m for m in mounts if where not in m.parents and m.exists()]
    if not yes:
        extra = "".join(f" and {m}" for m in outside)
        if not typer.confirm(f"Delete the emulated cluster in {where}{extra}, with all its "
                             "files?"):
            typer.echo("Nothing deleted.")
            raise typer.Exit(1)
    for tree in (*outside, where):
        fileattrs.clear_flags(tree)
        shutil.rmtree(tree)
    known = [p for p in config["gpfskit.emulator.clusters"] if Path(p) != where]
    config["gpfskit.emulator.clusters"] = known
    typer.echo(f"Deleted the emulated cluster in {where}.")
    if Path(config["gpfskit.emulator.root"]).absolute() == where:
        if "gpfskit.emulator.root" in config.stored():
            del config["gpfskit.emulator.root"]
        typer.echo("It was the configured cluster: gpfskit.emulator.root is back to its "
                   f"default, {config['gpfskit.emulator.root']}.")


@app.command("fsck")
def fsck(
    repair: bool = typer.Option(False, "--repair", help="fix what can be fixed (interrupted "
                                "commands settled, leftover copies removed, records of lost "
                                "data corrected) and say what cannot"),
    root: Path = typer.Option(None, "--root", help="the cluster's directory "
                              "[default: gpfskit.emulator.root]"),
) -> None:
    """Check the emulated cluster's database against its directory tree.

    Exit codes (as fsck(8)): 0 nothing wrong, 1 problems found and all repaired, 4 problems
    left (found without --repair, or not repairable), 8 the check could not run.
    """
    from gpfskit.emulator import fsck as checker
    from gpfskit.emulator import lockfile, state

    root = (root or Path(config["gpfskit.emulator.root"])).absolute()
    try:
        report = checker.check(root, repair=repair)
    except (state.NoCluster, lockfile.Busy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(checker.FAILED) from None
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(report.exit_code)
