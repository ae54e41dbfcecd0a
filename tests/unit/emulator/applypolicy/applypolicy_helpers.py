"""Helpers for the mmapplypolicy tests."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import table_rows


def make_files(base: Path, spec: dict[str, int]) -> dict[str, Path]:
    """Create files (relative name -> size in bytes, real data) under ``base``."""
    made = {}
    for name, size in spec.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        made[name] = path
    return made


def snapshot_state(root: Path, tree: Path) -> tuple:
    """Database tables plus every file's (path, size, xattrs): for 'nothing changed'."""
    data = table_rows(root)
    files = []
    for top, dirs, names in os.walk(tree):
        for name in sorted(dirs + names):
            path = os.path.join(top, name)
            st = os.lstat(path)
            try:
                xattrs = sorted((n, os.getxattr(path, n, follow_symlinks=False))
                                for n in os.listxattr(path, follow_symlinks=False))
            except OSError:
                xattrs = []
            files.append((path, st.st_size, st.st_ino, tuple(xattrs)))
    return data, sorted(files)
