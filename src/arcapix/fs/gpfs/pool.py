"""``arcapix.fs.gpfs.pool``: re-exports of ``gpfskit.api.pool``."""

from gpfskit.api.pool import Pool, Pools

__all__ = ["Pool", "Pools"]
