"""``arcapix.fs.gpfs.clib``: re-exports of ``gpfskit.clib`` (the C library API)."""

from gpfskit.clib import get_fileset_name, get_storage_pool

__all__ = ["get_fileset_name", "get_storage_pool"]
