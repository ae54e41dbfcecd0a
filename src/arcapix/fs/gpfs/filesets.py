"""``arcapix.fs.gpfs.filesets``: re-exports of ``gpfskit.api.filesets``."""

from gpfskit.api.filesets import Filesets, IndependentFilesets

__all__ = ["Filesets", "IndependentFilesets"]
