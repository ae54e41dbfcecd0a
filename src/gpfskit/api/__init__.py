"""The object API over a Storage Scale cluster: Cluster, Filesystem, Fileset, Snapshot, ...

Objects load lazily through a shared, cached ``Loader`` (one listing command per kind of
object, however many objects read it) and change the cluster only through
``gpfskit.commands.run`` with argv lists.
"""

from gpfskit.api.base import NotFoundError
from gpfskit.api.callbacks import Callback, Callbacks
from gpfskit.api.cluster import Cluster
from gpfskit.api.disk import Disk, Disks, Nsd, Nsds
from gpfskit.api.exports import NfsClient, NfsExport, NfsExports, SmbShare, SmbShares
from gpfskit.api.file import File, XAttrs
from gpfskit.api.fileset import CacheFileset, DependentFileset, Fileset, IndependentFileset
from gpfskit.api.filesets import Filesets, IndependentFilesets
from gpfskit.api.filesystem import Filesystem, Filesystems, getTempFilePath, setTempFilePath
from gpfskit.api.loader import Loader
from gpfskit.api.node import Node, Nodes
from gpfskit.api.nodeclass import Nodeclass, Nodeclasses
from gpfskit.api.pool import Pool, Pools
from gpfskit.api.quotas import Quota, Quotas
from gpfskit.api.snapshot import Snapshot
from gpfskit.api.snapshots import Snapshots, getRootFilesetSnapshots, setRootFilesetSnapshots
from gpfskit.commands import GPFSError, GPFSExecuteException

__all__ = [
    "CacheFileset", "Callback", "Callbacks",
    "Cluster", "DependentFileset", "Disk", "Disks", "File", "Fileset",
    "Filesets", "Filesystem", "Filesystems", "GPFSError", "GPFSExecuteException",
    "IndependentFileset", "IndependentFilesets", "Loader", "NfsClient", "NfsExport",
    "NfsExports", "Node", "Nodeclass", "Nodeclasses", "Nodes", "NotFoundError", "Nsd", "Nsds",
    "Pool", "Pools", "Quota", "Quotas", "SmbShare", "SmbShares", "Snapshot", "Snapshots",
    "XAttrs", "getRootFilesetSnapshots", "getTempFilePath", "setRootFilesetSnapshots",
    "setTempFilePath",
]
