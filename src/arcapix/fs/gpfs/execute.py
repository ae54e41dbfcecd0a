"""``arcapix.fs.gpfs.execute``: re-exports of ``gpfskit.commands``."""

from gpfskit.commands import (
    GPFSError,
    GPFSExecuteException,
    dry_run,
    getCmdCache,
    getDryRun,
    setDryRun,
)
from gpfskit.commands.dryrun import clearCmdCache

__all__ = ["GPFSError", "GPFSExecuteException", "clearCmdCache", "dry_run", "getCmdCache",
           "getDryRun", "setDryRun"]
