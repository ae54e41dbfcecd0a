"""``arcapix.fs.gpfs.quotas``: re-exports of ``gpfskit.api.quotas``."""

from gpfskit.api.quotas import Quota, Quotas

__all__ = ["Quota", "Quotas"]
