"""What every API object shares: its Loader, running a change, showing a recorded change."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gpfskit.api import checks
from gpfskit.api.loader import Loader
from gpfskit.commands import CommandResult, GPFSError, GPFSExecuteException, run

log = logging.getLogger("gpfskit.api")


class NotFoundError(GPFSError, LookupError):
    """The object an API call refers to does not exist on the cluster."""


class APIObject:
    """Base of every object and collection: a Loader shared with whatever it reaches.

    An object built directly gets a Loader of its own; objects reached from it get the same
    one, so a listing runs once for all of them.
    """

    def __init__(self, _loader: Loader | None = None) -> None:
        self._loader = _loader if _loader is not None else Loader()

    def refresh(self) -> None:
        """Drop cached command output: the next read shows the cluster as it is now."""
        self._loader.refresh()

    def _identity(self) -> tuple[Any, ...] | None:
        """What makes two objects the same cluster object (None: only identity counts)."""
        return None

    def __eq__(self, other: object) -> bool:
        mine = self._identity()
        if mine is None or not isinstance(other, APIObject):
            return self is other
        return type(self) is type(other) and mine == other._identity()

    def __hash__(self) -> int:
        mine = self._identity()
        return hash((type(self).__name__, mine)) if mine is not None else id(self)

    def _change(self, argv: Sequence[str], patch: Callable[[], Any] | None = None
                ) -> CommandResult:
        """Run a changing command; when dry run only recorded it, call ``patch()`` (which
        registers ``Loader.patch`` edits) so the change shows in this session.

        Outside dry run nothing needs patching: the command moved the generation, so every
        cached listing is read again.
        """
        result = run(list(argv))
        if result.recorded and patch is not None:
            patch()
        return result


def refused(argv: Sequence[str], message: str, returncode: int = 1) -> GPFSExecuteException:
    """The error the cluster gives for ``argv``, raised before running it: the API checks
    what it can against the state it sees (dry run's changes included), so a dry run records
    only commands that would succeed and both modes fail the same way."""
    return GPFSExecuteException(argv, returncode, "", f"{argv[0]}: {message}\n")


def node_args(nodes: Any, *, all_flag: bool = True) -> list[str]:
    """Command arguments naming ``nodes``: None -> [] (the local node), 'all' -> ['-a']
    (``['-N', 'all']`` without ``all_flag``), a name (or several, comma-separated), a Node
    or Nodeclass, or a list of them -> ['-N', 'a,b']. Every name is checked."""
    if nodes is None:
        return []
    if isinstance(nodes, str) and nodes == "all" and all_flag:
        return ["-a"]
    items: Iterable[Any] = [nodes] if isinstance(nodes, str) or hasattr(nodes, "name") \
        else nodes
    names = []
    for item in items:
        label = item.name if hasattr(item, "name") and not isinstance(item, str) else item
        parts = label.split(",") if isinstance(label, str) else [label]
        names += [checks.host(part, "node or node class") for part in parts]
    if not names:
        raise ValueError("an empty list of nodes was given")
    return ["-N", ",".join(names)]


class Steps:
    """Undo for multi-command operations: ``with Steps() as steps: ...; steps.undo(fn)``.

    When the block raises, the undo actions registered so far run in reverse order (their own
    failures are logged, not raised) and the original exception propagates.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], Any]]] = []

    def undo(self, description: str, action: Callable[[], Any]) -> None:
        self._undo.append((description, action))

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            return
        for description, action in reversed(self._undo):
            try:
                action()
            except Exception as failure:
                log.error("could not undo %s after an error: %s", description, failure)
