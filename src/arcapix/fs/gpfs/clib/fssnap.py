"""``arcapix.fs.gpfs.clib.fssnap``: re-exports of ``gpfskit.clib.fssnap``."""

from gpfskit.clib import fssnap as _module
from gpfskit.clib.fssnap import *  # noqa: F403

__all__ = list(_module.__all__)
