"""``arcapix.fs.gpfs.clib.quota``: re-exports of ``gpfskit.clib.quota``."""

from gpfskit.clib import quota as _module
from gpfskit.clib.quota import *  # noqa: F403

__all__ = list(_module.__all__)
