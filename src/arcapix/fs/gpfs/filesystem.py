"""``arcapix.fs.gpfs.filesystem``: re-exports of ``gpfskit.api.filesystem``."""

from gpfskit.api.filesystem import (
    Filesystem,
    Filesystems,
    getTempFilePath,
    setTempFilePath,
)

__all__ = ["Filesystem", "Filesystems", "getTempFilePath", "setTempFilePath"]
