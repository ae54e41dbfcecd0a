"""Running admin commands: one Runner, argv lists only, dry run, -Y parsing."""

from gpfskit.commands.dryrun import dry_run, getCmdCache, getDryRun, setDryRun
from gpfskit.commands.errors import GPFSError, GPFSExecuteException
from gpfskit.commands.runner import CommandResult, generation, run

__all__ = [
    "CommandResult",
    "GPFSError",
    "GPFSExecuteException",
    "dry_run",
    "generation",
    "getCmdCache",
    "getDryRun",
    "run",
    "setDryRun",
]
