"""``arcapix.fs.gpfs.nsd``: re-exports of ``gpfskit.api.nsd``."""

from gpfskit.api.nsd import Nsd, Nsds

__all__ = ["Nsd", "Nsds"]
