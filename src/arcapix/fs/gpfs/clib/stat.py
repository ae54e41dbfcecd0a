"""``arcapix.fs.gpfs.clib.stat``: re-exports of ``gpfskit.clib.stat``."""

from gpfskit.clib import stat as _module
from gpfskit.clib.stat import *  # noqa: F403

__all__ = list(_module.__all__)
