"""``arcapix.fs.gpfs.snapshots``: re-exports of ``gpfskit.api.snapshots``."""

from gpfskit.api.snapshots import Snapshots

__all__ = ["Snapshots"]
