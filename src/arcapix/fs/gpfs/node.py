"""``arcapix.fs.gpfs.node``: re-exports of ``gpfskit.api.node``."""

from gpfskit.api.node import Node, Nodes

__all__ = ["Node", "Nodes"]
