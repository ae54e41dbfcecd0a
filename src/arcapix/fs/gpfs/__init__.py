"""``from arcapix.fs.gpfs import Cluster, Filesystem, ...``: re-exports of ``gpfskit.api``."""

from gpfskit.api import (
    CacheFileset,
    Callback,
    Callbacks,
    Cluster,
    DependentFileset,
    Disk,
    File,
    Fileset,
    Filesets,
    Filesystem,
    IndependentFileset,
    Node,
    Nodeclass,
    Nsd,
    Pool,
    Quota,
    Quotas,
    Snapshot,
    Snapshots,
)
from gpfskit.commands import GPFSError, GPFSExecuteException

__all__ = [
    "CacheFileset", "Callback", "Callbacks",
    "Cluster", "DependentFileset", "Disk", "File", "Fileset", "Filesets",
    "Filesystem", "GPFSError", "GPFSExecuteException", "IndependentFileset", "Node",
    "Nodeclass", "Nsd", "Pool", "Quota", "Quotas", "Snapshot", "Snapshots",
]
