"""``arcapix.fs.gpfs.snapshots``: re-exports of ``gpfskit.api.snapshots``."""

from gpfskit.api.snapshots import Snapshots, getRootFilesetSnapshots, setRootFilesetSnapshots

__all__ = ["Snapshots", "getRootFilesetSnapshots", "setRootFilesetSnapshots"]
