"""``arcapix.fs.gpfs.clib.clone``: re-exports of ``gpfskit.clib.clone``."""

from gpfskit.clib import clone as _module
from gpfskit.clib.clone import *  # noqa: F403

__all__ = list(_module.__all__)
