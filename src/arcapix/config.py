"""``from arcapix.config import config``: the configuration directive store."""

from gpfskit.config import config

__all__ = ["config"]
