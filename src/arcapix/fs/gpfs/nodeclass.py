"""``arcapix.fs.gpfs.nodeclass``: re-exports of ``gpfskit.api.nodeclass``."""

from gpfskit.api.nodeclass import Nodeclass, Nodeclasses

__all__ = ["Nodeclass", "Nodeclasses"]
