"""``arcapix.fs.gpfs.cluster``: re-exports of ``gpfskit.api.cluster``."""

from gpfskit.api.cluster import Cluster

__all__ = ["Cluster"]
