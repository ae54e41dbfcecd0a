"""``arcapix.fs.gpfs.nsd``: re-exports of the NSD classes of ``gpfskit.api.disk``."""

from gpfskit.api.disk import Nsd, Nsds

__all__ = ["Nsd", "Nsds"]
