"""``arcapix.fs.gpfs.clib.inode``: re-exports of ``gpfskit.clib.inode``."""

from gpfskit.clib import inode as _module
from gpfskit.clib.inode import *  # noqa: F403

__all__ = list(_module.__all__)
