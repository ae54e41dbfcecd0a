"""``arcapix.fs.gpfs.fileset``: re-exports of ``gpfskit.api.fileset``."""

from gpfskit.api.fileset import (
    CacheFileset,
    DependentFileset,
    Fileset,
    IndependentFileset,
)
from gpfskit.api.snapshots import setRootFilesetSnapshots

__all__ = ["CacheFileset", "DependentFileset", "Fileset", "IndependentFileset",
           "setRootFilesetSnapshots"]
