"""``arcapix.fs.gpfs.clib.utils``: re-exports of ``gpfskit.clib.utils``."""

from gpfskit.clib import utils as _module
from gpfskit.clib.utils import *  # noqa: F403

__all__ = list(_module.__all__)
