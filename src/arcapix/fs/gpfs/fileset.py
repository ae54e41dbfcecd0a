"""``arcapix.fs.gpfs.fileset``: re-exports of ``gpfskit.api.fileset``."""

from gpfskit.api.fileset import (
    CacheFileset,
    DependentFileset,
    Fileset,
    IndependentFileset,
)

__all__ = ["CacheFileset", "DependentFileset", "Fileset", "IndependentFileset"]
