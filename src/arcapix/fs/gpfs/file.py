"""``arcapix.fs.gpfs.file``: re-exports of ``gpfskit.api.file``."""

from gpfskit.api.file import File, XAttrs

__all__ = ["File", "XAttrs"]
