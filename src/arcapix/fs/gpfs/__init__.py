"""``from arcapix.fs.gpfs import Cluster, Filesystem, ...``: re-exports of ``gpfskit.api``.

The policy names (``ManagementPolicy``, the rule classes, ``Criteria``...) come from
``gpfskit.policy`` on first use, so a script that only manages filesets does not load the
policy modules.
"""

from __future__ import annotations

from typing import Any

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
    setRootFilesetSnapshots,
)
from gpfskit.commands import GPFSError, GPFSExecuteException

_POLICY_NAMES = frozenset({
    "Criteria",
    "DeleteRule",
    "ExcludeRule",
    "ExternalListRule",
    "ExternalPoolRule",
    "ListProcessingRule",
    "ListRule",
    "ManagementPolicy",
    "MapReduceRule",
    "MigrateRule",
    "PlacementPolicy",
    "PolicyError",
    "PolicyProcessingError",
    "SetPoolRule",
})

__all__ = [
    "CacheFileset",
    "Callback",
    "Callbacks",
    "Cluster",
    "Criteria",
    "DeleteRule",
    "DependentFileset",
    "Disk",
    "ExcludeRule",
    "ExternalListRule",
    "ExternalPoolRule",
    "File",
    "Fileset",
    "Filesets",
    "Filesystem",
    "GPFSError",
    "GPFSExecuteException",
    "IndependentFileset",
    "ListProcessingRule",
    "ListRule",
    "ManagementPolicy",
    "MapReduceRule",
    "MigrateRule",
    "Node",
    "Nodeclass",
    "Nsd",
    "PlacementPolicy",
    "PolicyError",
    "PolicyProcessingError",
    "Pool",
    "Quota",
    "Quotas",
    "SetPoolRule",
    "Snapshot",
    "Snapshots",
    "setRootFilesetSnapshots",
]


def __getattr__(name: str) -> Any:
    if name not in _POLICY_NAMES:
        raise AttributeError(f"module 'arcapix.fs.gpfs' has no attribute {name!r}")
    import gpfskit.policy

    value = getattr(gpfskit.policy, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _POLICY_NAMES)
