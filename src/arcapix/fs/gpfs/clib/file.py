"""``arcapix.fs.gpfs.clib.file``: re-exports of ``gpfskit.clib.file``."""

from gpfskit.clib import file as _module
from gpfskit.clib.file import *  # noqa: F403

__all__ = list(_module.__all__)
