"""``arcapix.fs.gpfs.disk``: re-exports of ``gpfskit.api.disk``."""

from gpfskit.api.disk import Disk, Disks

__all__ = ["Disk", "Disks"]
