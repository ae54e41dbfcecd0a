"""``arcapix.fs.gpfs.snapshot``: re-exports of ``gpfskit.api.snapshot``."""

from gpfskit.api.snapshot import Snapshot

__all__ = ["Snapshot"]
