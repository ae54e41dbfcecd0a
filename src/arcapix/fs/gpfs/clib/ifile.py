"""``arcapix.fs.gpfs.clib.ifile``: re-exports of ``gpfskit.clib.ifile``."""

from gpfskit.clib import ifile as _module
from gpfskit.clib.ifile import *  # noqa: F403

__all__ = list(_module.__all__)
