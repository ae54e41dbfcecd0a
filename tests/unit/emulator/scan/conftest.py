"""Fixtures for the scan tests (the helpers live in scan_tree_helpers.py)."""

from __future__ import annotations

import pytest
from scan_tree_helpers import Tree, build_tree


@pytest.fixture(scope="session")
def awkward_tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return build_tree(tmp_path_factory.mktemp("scan-tree") / "fs1")
