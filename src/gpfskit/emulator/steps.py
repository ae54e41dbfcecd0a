"""Changes on disk that the intent journal (journal.py) can record, undo and redo.

Each step is plain data (a dataclass recorded as JSON in the intent) and judges from what is
on disk whether it was done, so undoing or redoing it after a kill at any moment is safe:
``undo`` of a step never done does nothing, ``redo`` of a step already done does nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from gpfskit.emulator import crossmove, fileattrs, layout, snapcopy

_KINDS: dict[str, type[Step]] = {}


def _kind(cls: type[Step]) -> type[Step]:
    _KINDS[cls.op] = cls
    return cls


@dataclass
class Step:
    """One change on disk, undoable from what is on disk (``undo`` of a step never done does
    nothing), with optional work for after the commit (``finish``)."""

    op: ClassVar[str] = ""
    after_kill_only: ClassVar[bool] = False   # finish only when settling a killed command
    has_finish: ClassVar[bool] = False        # whether ``finish`` does anything (per class)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.has_finish = cls.finish is not Step.finish

    def do(self) -> None:
        """The change (nothing by default: a step with after-commit work only)."""

    def undo(self) -> None:
        """Put back what ``do`` changed, judging from what is on disk."""

    def finish(self) -> None:
        """Work done once the state is committed (nothing by default)."""

    def redo(self) -> None:
        """Do the step unless what is on disk shows it done (steps done after the commit)."""

    def record(self) -> dict[str, object]:
        return {"op": self.op, **vars(self)}

    @staticmethod
    def from_record(record: dict[str, object]) -> Step:
        fields = dict(record)
        return _KINDS[str(fields.pop("op"))](**fields)


def _in_the_way(path: str, moved: str) -> OSError:
    """The undo cannot put ``moved`` back: something new is at ``path``."""
    return FileExistsError(errno.EEXIST, f"cannot move {moved} back: something new is in the "
                           "way", path)


def _writable_parent(path: str) -> contextlib.AbstractContextManager[None]:
    """Lift a read-only parent (a ``.snapshots`` directory, mode 0555) for a moment."""
    parent = os.path.dirname(path)
    if os.path.basename(parent) == layout.SNAPDIR and os.path.isdir(parent):
        return snapcopy.writable(Path(parent))
    return contextlib.nullcontext()


@_kind
@dataclass
class MakeDir(Step):
    """A new, empty directory (its parents are made as needed and left)."""

    op: ClassVar[str] = "mkdir"
    path: str
    mode: int = 0o755

    def do(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with _writable_parent(self.path):
            os.mkdir(self.path, 0o700)
        os.chmod(self.path, self.mode)

    def undo(self) -> None:
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            with _writable_parent(self.path):
                os.chmod(self.path, 0o700)
                os.rmdir(self.path)   # empty again once the later steps are undone

    def redo(self) -> None:
        if not os.path.lexists(self.path):
            self.do()


@_kind
@dataclass
class Rename(Step):
    """Move a tree into place (``target`` absent or an empty directory, which it replaces).
    ``emptied`` is the mode of such an empty directory, recreated by ``undo``; with
    ``create`` a missing source makes an empty target (a file system never mounted yet)."""

    op: ClassVar[str] = "rename"
    source: str
    target: str
    emptied: int | None = None
    create: bool = False

    def do(self) -> None:
        if self.create and not os.path.lexists(self.source):
            if not os.path.isdir(self.target):
                os.mkdir(self.target, 0o755)
            return
        with _writable_parent(self.source), _writable_parent(self.target):
            layout.move_tree(Path(self.source), Path(self.target))

    def redo(self) -> None:
        crossmove.settle(Path(self.target), Path(self.source))
        if not os.path.lexists(self.source):
            if self.create and not os.path.lexists(self.target):
                self.do()
            return
        if not os.path.lexists(self.target) or empty_dir(self.target):
            self.do()

    def undo(self) -> None:
        crossmove.settle(Path(self.source), Path(self.target))
        if os.path.lexists(self.target) and not os.path.lexists(self.source):
            with _writable_parent(self.source), _writable_parent(self.target):
                layout.move_tree(Path(self.target), Path(self.source))
        elif os.path.lexists(self.source) and os.path.lexists(self.target) \
                and not empty_dir(self.target):
            raise _in_the_way(self.source, self.target)
        if self.emptied is not None and not os.path.lexists(self.target):
            os.mkdir(self.target, self.emptied)
            os.chmod(self.target, self.emptied)


@_kind
@dataclass
class Discard(Step):
    """Move a tree aside under a temporary name; deleted for good after the commit. With
    ``drop_parent`` the parent directory goes too once empty (a ``.snapshots``)."""

    op: ClassVar[str] = "discard"
    path: str
    trash: str
    drop_parent: bool = False

    def do(self) -> None:
        with _writable_parent(self.path):
            os.rename(self.path, self.trash)

    def undo(self) -> None:
        if os.path.lexists(self.trash):
            if os.path.lexists(self.path):
                raise _in_the_way(self.path, self.trash)
            with _writable_parent(self.path):
                os.rename(self.trash, self.path)

    def finish(self) -> None:
        fileattrs.clear_flags(self.trash)
        with _writable_parent(self.trash):
            snapcopy.remove_tree(Path(self.trash))
        if self.drop_parent:
            drop_if_empty(Path(self.trash).parent)


@_kind
@dataclass
class Copy(Step):
    """A point-in-time copy made under a temporary name (``staging``), then renamed to
    ``target``; undone by removing both. It cannot be redone later: the source has moved on."""

    op: ClassVar[str] = "copy"
    source: str
    staging: str
    target: str
    skip: list[str] = dataclasses.field(default_factory=list)
    empty: list[str] = dataclasses.field(default_factory=list)

    def do(self) -> None:
        with _writable_parent(self.staging):
            try:
                snapcopy.copy_tree(Path(self.source), Path(self.staging), skip=self.skip,
                                   empty=self.empty)
                os.rename(self.staging, self.target)
            except BaseException:
                snapcopy.remove_tree(Path(self.staging))
                raise

    def undo(self) -> None:
        with _writable_parent(self.staging):
            snapcopy.remove_tree(Path(self.staging))
            snapcopy.remove_tree(Path(self.target))


@_kind
@dataclass
class SetAttributes(Step):
    """GPFS attribute changes on one file (``fileattrs.change``), with everything they may
    touch saved before (``fileattrs.save``) for the undo."""

    op: ClassVar[str] = "attrs"
    path: str
    saved: dict[str, object]
    change: dict[str, object]

    @classmethod
    def of(cls, path: str, change: dict[str, object]) -> SetAttributes:
        values, flags = fileattrs.save(path)
        return cls(path, {"values": {k: v.hex() for k, v in values.items() if v is not None},
                          "flags": flags}, change)

    def do(self) -> None:
        fileattrs.change(self.path, self.change)

    def undo(self) -> None:
        if os.path.lexists(self.path):
            values = {k: bytes.fromhex(str(v)) for k, v in
                      dict(self.saved["values"]).items()}  # type: ignore[call-overload]
            fileattrs.restore(self.path, (values, int(self.saved["flags"])))  # type: ignore


@_kind
@dataclass
class Scratch(Step):
    """A job's scratch directory (mmapplypolicy's work files), removed when it ends."""

    op: ClassVar[str] = "scratch"
    path: str

    def finish(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@_kind
@dataclass
class GuardFlags(Step):
    """Files whose immutable / append-only flag a job lifts for a moment while it changes
    them: after a kill, the recorded flags are raised again on the whole tree."""

    op: ClassVar[str] = "guard"
    after_kill_only: ClassVar[bool] = True   # a job that ends normally has lowered nothing
    tree: str

    def finish(self) -> None:
        fileattrs.raise_recorded_flags(self.tree)


# Temporary names beside what a command changes (fsck removes any a failure left behind).
CREATING = ".creating-"    # a copy being made
DELETING = ".deleting-"    # a tree moved aside, deleted after the commit


def creating_in(directory: Path) -> Path:
    """A fresh temporary name in ``directory`` for a copy being made."""
    return directory / f"{CREATING}{uuid.uuid4().hex[:8]}"


def deleting(path: Path) -> Path:
    """A fresh temporary name beside ``path`` for it to wait for the commit under."""
    return path.parent / f"{DELETING}{path.name}-{uuid.uuid4().hex[:8]}"


def empty_dir(path: str | os.PathLike[str]) -> bool:
    """True for a directory (not a symlink) with nothing in it."""
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    with os.scandir(path) as entries:
        return not any(True for _ in entries)


def drop_if_empty(directory: Path) -> None:
    """Remove a ``.snapshots`` directory that holds nothing any more."""
    with contextlib.suppress(OSError):
        with os.scandir(directory) as entries:
            if any(True for _ in entries):
                return
        os.chmod(directory, 0o755)
        os.rmdir(directory)
