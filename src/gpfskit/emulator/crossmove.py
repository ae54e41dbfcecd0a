"""Moving a tree to another device, so that a kill at any moment leaves it whole on one side.

A rename cannot cross devices (a mount point on another file system than the emulator's root,
say), so the move is made in three steps, each leaving the tree whole somewhere:

1. copy it to a staging name beside the target (``.gpfskit-moving.<name>``), with the
   immutable and append-only flags its files have recorded;
2. rename the copy into place: from here the target holds the whole tree;
3. rename the source aside (``.gpfskit-moved.<name>``) and remove it.

:func:`settle` puts back order after a kill, towards either end: a staging copy is never
trusted (the source is still whole), a source moved aside is removed (the target is whole),
and when both ends hold the tree, the copy that is not wanted goes.
"""

from __future__ import annotations

import os
from pathlib import Path

from gpfskit.emulator import fileattrs, snapcopy

MOVING = ".gpfskit-moving."
MOVED = ".gpfskit-moved."


def staging(target: Path) -> Path:
    return target.parent / f"{MOVING}{target.name}"


def aside(source: Path) -> Path:
    return source.parent / f"{MOVED}{source.name}"


def move(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` (absent, or an empty directory it replaces) on another
    device."""
    stage = staging(target)
    _discard(stage)
    snapcopy.copy_tree(source, stage)
    fileattrs.raise_recorded_flags(stage)
    os.rename(stage, target)
    gone = aside(source)
    os.rename(source, gone)
    _discard(gone)


def _discard(path: Path) -> None:
    fileattrs.clear_flags(path)
    snapcopy.remove_tree(path)


def _holds_tree(path: Path) -> bool:
    """True when ``path`` is a tree (not absent, not an empty placeholder directory)."""
    if not os.path.lexists(path):
        return False
    return not path.is_dir() or path.is_symlink() or any(os.scandir(path))


def settle(wanted: Path, other: Path) -> None:
    """Clear what a killed move between ``wanted`` and ``other`` (either way) left, keeping
    the tree at ``wanted`` when both ends hold it; afterwards at most one end holds it."""
    for stage in (staging(wanted), staging(other)):
        _discard(stage)
    for gone, whole in ((aside(wanted), other), (aside(other), wanted)):
        if os.path.lexists(gone) and os.path.lexists(whole):
            _discard(gone)
    if _holds_tree(wanted) and _holds_tree(other) and _devices_differ(wanted, other):
        gone = aside(other)
        os.rename(other, gone)
        _discard(gone)


def _devices_differ(one: Path, two: Path) -> bool:
    return os.lstat(one).st_dev != os.lstat(two).st_dev
