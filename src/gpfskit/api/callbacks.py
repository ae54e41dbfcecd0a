"""Event handlers (callbacks): ``Cluster().callbacks``, ``Callback`` and the ``on<Event>``
members of the objects that raise events.

``Cluster().callbacks`` holds every callback of the cluster, read with one
``mmlscallback all -Y`` (so callbacks made with ``mmaddcallback`` directly are there too),
keyed by identifier. ``new(handler, event_or_events, ...)`` adds one; ``destroy(...)`` removes
it. Objects expose one member per event that concerns them (``Filesystem('mmfs1').onMount``,
``Node('node1').onShutdown``, ``fileset.onSoftQuotaExceeded``, ``pool.onLowDiskSpace``...),
each a collection of that event's callbacks for that object with ``new(handler, ...)`` and
``destroy(...)``; ``new`` scopes the callback to the object:

* a node: ``-N <node>`` (for the global nodeJoin/nodeLeave/quorumNodeJoin/quorumNodeLeave, a
  filter on ``%eventNode`` instead, as ``-N`` does not limit global events);
* a file system, fileset, pool or disk: a filter the callback driver applies on ``%fsName``,
  ``%filesetName``, ``%storagePool``, ``%diskName``; the callback runs for every such event
  and the driver skips the ones about other objects.

A handler is a Python callable (function, lambda, closure, bound method, callable object) or
the path of an executable script. A callable is saved with cloudpickle in the callbacks
directory (``gpfskit.callbacks.store``) and registered with the driver wrapper as
``--command``; it keeps working after this Python process ends, until it is destroyed. A
script is registered as the command itself (through the driver only when a filter is needed).
The handler's arguments are ``parm`` (``['%eventNode', 'literal', ...]``) when given, else
its own argument names matched to event variables (``def handler(fsName, filesetName)``;
case and underscores are ignored, so ``fs_name`` works too; an argument that is not a
variable must have a default). Values arrive as strings, None for a variable without a value
for the event. The rest follows ``mmaddcallback``: ``sync`` (default asynchronous),
``timeout`` and ``onerror`` (``continue``, ``quorumLoss``, ``shutdown``; synchronous only;
on a pre-event anything but ``continue`` stops the operation when the handler fails or
raises), ``priority``, ``nodes``.

Identifiers follow the mmaddcallback rules (at most 255 characters, no colon, semicolon,
blank, tab or comma, not starting with ``gpfs`` or ``mm``); when none is given one is made
from the handler's name: ``cb_<name>_<8 hex digits>``.
"""

from __future__ import annotations

import inspect
import os
import re
import secrets
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from gpfskit import event_catalog
from gpfskit.api.base import APIObject, NotFoundError, node_args
from gpfskit.api.collection import Collection
from gpfskit.api.loader import Loader
from gpfskit.callbacks import store
from gpfskit.commands import CommandResult, GPFSError, getDryRun, yformat

#: What a callback runs: a Python callable (run by gpfskit's callback driver) or a script path.
Handler = Callable[..., Any] | str

LISTING = ("mmlscallback", "all", "-Y")
MAX_IDENTIFIER = 255
_BAD_ID = re.compile(r"[:;, \t\x00-\x1f\x7f]")
_FILTER = re.compile(r"^%([A-Za-z][A-Za-z0-9]*)=(\S*)$")
_NORMAL_VARIABLES = {name.lower(): name for name in event_catalog.VARIABLES}


# -- listing -----------------------------------------------------------------------------

def _parse(text: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for row in yformat.parse_table(text):
        ident = row.get("identifier") or row.get("callbackId") or row.get("name")
        if ident:
            rows[ident] = row
    return rows


def listing(loader: Loader) -> dict[str, dict[str, Any]]:
    """Every callback of the cluster, keyed by identifier (``mmlscallback all -Y``)."""
    return loader.command(
        LISTING, _parse,
        empty=lambda exc: "no callback" in (exc.stdout + exc.stderr).lower())


# -- checks ------------------------------------------------------------------------------

def check_identifier(value: Any) -> str:
    """A valid callback identifier, or ValueError saying why not."""
    if not isinstance(value, str):
        raise TypeError(f"callback identifier must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError("callback identifier must not be empty")
    if len(value) > MAX_IDENTIFIER:
        raise ValueError(f"callback identifier is {len(value)} characters long; at most "
                         f"{MAX_IDENTIFIER} are allowed")
    if _BAD_ID.search(value):
        raise ValueError(f"invalid callback identifier {value!r}: it may not contain a colon, "
                         "semicolon, blank, tab or comma")
    if value.startswith(("gpfs", "mm")):
        raise ValueError(f"invalid callback identifier {value!r}: names starting with 'gpfs' "
                         "or 'mm' are reserved for system callbacks")
    return value


def new_identifier(handler: Any) -> str:
    """``cb_<handler name>_<8 hex digits>``."""
    if isinstance(handler, str):
        base = os.path.basename(handler)
    else:
        base = getattr(handler, "__name__", None) or type(handler).__name__
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("_.-") or "handler"
    return f"cb_{base[:40]}_{secrets.token_hex(4)}"


def _events(value: Any) -> list[str]:
    if isinstance(value, str):
        names = [e.strip() for e in value.split(",")]
    elif isinstance(value, Iterable):
        names = []
        for item in value:
            if not isinstance(item, str):
                raise TypeError(f"event names must be strings, not {type(item).__name__}")
            names.extend(e.strip() for e in item.split(","))
    else:
        raise TypeError("give the event as a name or a list of names")
    chosen: list[str] = []
    for name in names:
        if not name:
            continue
        if not event_catalog.known_event(name):
            raise ValueError(f"unknown callback event {name!r}")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise ValueError("no event was given")
    return chosen


def _words(parm: Any) -> list[str]:
    items = parm.split() if isinstance(parm, str) else list(parm)
    words = []
    for item in items:
        text = str(item)
        if not text or any(c.isspace() for c in text) or "\0" in text:
            raise ValueError(f"callback parameter {text!r} must be one non-empty word (the "
                             "cluster splits parameters on blanks)")
        words.append(text)
    return words


def variable(name: str) -> str | None:
    """The event variable an argument name stands for (case and ``_`` ignored), or None."""
    return _NORMAL_VARIABLES.get(name.replace("_", "").lower())


def handler_variables(handler: Callable[..., Any]) -> list[str]:
    """The event variables a callable's own arguments ask for, in order."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return []
    names = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            break
        found = variable(p.name) if p.kind != p.KEYWORD_ONLY else None
        if found is None:
            if p.default is p.empty:
                raise ValueError(
                    f"handler argument {p.name!r} is not an event variable (use a variable "
                    "name such as fsName or filesetName, give it a default, or pass parm=[...])")
            break
        names.append(found)
    return names


def _timeout(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {value!r}")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _priority(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"priority must be a number, not {value!r}")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _onerror(value: Any) -> str:
    for action in event_catalog.ONERROR:
        if isinstance(value, str) and value.lower() == action.lower():
            return action
    raise ValueError(f"onerror must be one of {', '.join(event_catalog.ONERROR)}, not {value!r}")


# -- scope -------------------------------------------------------------------------------

class Scope:
    """What ``on<Event>.new`` limits a callback to: nodes (``-N``) and driver filters."""

    def __init__(self, nodes: str | None = None,
                 filters: Iterable[tuple[str, str]] = ()) -> None:
        self.nodes = nodes
        self.filters = list(filters)

    def matches(self, callback: Callback) -> bool:
        return (callback.nodeSpec or None) == self.nodes and callback.filters == self.filters


def _fs_filter(obj: Any) -> list[tuple[str, str]]:
    return [("fsName", obj.name)]


def _fileset_filter(obj: Any) -> list[tuple[str, str]]:
    return [("fsName", obj.filesystemName), ("filesetName", obj.name)]


def _pool_filter(obj: Any) -> list[tuple[str, str]]:
    return [("fsName", obj.filesystemName), ("storagePool", obj.name)]


def _disk_filter(obj: Any) -> list[tuple[str, str]]:
    return [("fsName", obj.filesystemName), ("diskName", obj.name)]


_FS_EVENTS = ("preMount", "mount", "preUnmount", "unmount", "snapshotCreated",
              "softQuotaExceeded", "usageUnderSoftQuota", "lowDiskSpace", "noDiskSpace",
              "filesetLimitExceeded", "diskFailure")
_NODE_EVENTS = ("preStartup", "startup", "preShutdown", "shutdown", "preMount", "mount",
                "preUnmount", "unmount", "nodeJoin", "nodeLeave", "quorumNodeJoin",
                "quorumNodeLeave", "snapshotCreated", "deadlockDetected")

# kind -> (events, scope builder)
KINDS: dict[str, tuple[tuple[str, ...], Callable[[Any, str], Scope]]] = {
    "cluster": (tuple(event_catalog.EVENTS), lambda obj, event: Scope()),
    "filesystem": (_FS_EVENTS, lambda obj, event: Scope(filters=_fs_filter(obj))),
    "fileset": (("snapshotCreated", "softQuotaExceeded", "usageUnderSoftQuota",
                 "filesetLimitExceeded"),
                lambda obj, event: Scope(filters=_fileset_filter(obj))),
    "pool": (("lowDiskSpace", "noDiskSpace"), lambda obj, event: Scope(filters=_pool_filter(obj))),
    "disk": (("diskFailure", "diskIOErr"), lambda obj, event: Scope(filters=_disk_filter(obj))),
    "node": (_NODE_EVENTS, lambda obj, event: (
        Scope(filters=[("eventNode", obj.name)])
        if event_catalog.EVENTS.get(event) == event_catalog.GLOBAL else Scope(nodes=obj.name))),
}


def member_name(event: str) -> str:
    """``mount`` -> ``onMount``, ``softQuotaExceeded`` -> ``onSoftQuotaExceeded``."""
    return "on" + event[:1].upper() + event[1:]


# -- Callback ----------------------------------------------------------------------------

class Callback(APIObject):
    """One callback: from the cluster's listing, or a definition not created yet
    (``Callback(command=fn, parm=['%eventNode'])``, then ``create()`` or ``new(callback)``).

    Properties: ``id`` (also ``callbackId``, ``name``), ``command`` (the Python handler for a
    gpfskit handler, else the command path), ``commandPath`` (the registered ``--command``),
    ``handlerFile``, ``events`` (list) and ``event`` (comma-separated), ``parms`` (as
    listed), ``parm`` (the handler's arguments), ``filters`` ([(variable, value)]),
    ``sync``, ``priority``, ``timeout``, ``onerror``, ``nodes`` (list or None),
    ``nodeSpec``, ``system`` (a built-in callback).
    """

    def __init__(self, callbackId: str | None = None, command: Any = None, event: Any = None,
                 parm: Any = None, sync: bool | None = None, nodes: Any = None,
                 priority: float | None = None, onerror: str | None = None,
                 timeout: float | None = None, _loader: Loader | None = None,
                 **kwargs: Any) -> None:
        super().__init__(_loader)
        if "callback_id" in kwargs:
            callbackId = kwargs.pop("callback_id")
        if "handler" in kwargs and command is None:
            command = kwargs.pop("handler")
        if "events" in kwargs and event is None:
            event = kwargs.pop("events")
        if "parms" in kwargs and parm is None:
            parm = kwargs.pop("parms")
        if "node" in kwargs and nodes is None:
            nodes = kwargs.pop("node")
        if "async" in kwargs and sync is None:
            sync = not kwargs.pop("async")
        if "async_" in kwargs and sync is None:
            sync = not kwargs.pop("async_")
        if kwargs:
            raise TypeError(f"Callback() got unexpected arguments: {', '.join(sorted(kwargs))}")
        self._id = check_identifier(callbackId) if callbackId is not None else None
        self._spec: dict[str, Any] | None = {
            "command": command, "event": event, "parm": parm, "sync": sync, "nodes": nodes,
            "priority": priority, "onerror": onerror, "timeout": timeout}

    @classmethod
    def _attach(cls, loader: Loader, ident: str) -> Callback:
        obj = cls.__new__(cls)
        APIObject.__init__(obj, loader)
        obj._id, obj._spec = ident, None
        return obj

    def _identity(self) -> tuple[Any, ...] | None:
        return (self._id,) if self._id is not None and self._spec is None else None

    def __repr__(self) -> str:
        return f"Callback({self._id!r})"

    def __str__(self) -> str:
        return self._id or ""

    # -- rows --------------------------------------------------------------------------
    def _created_id(self) -> str:
        """The identifier of a callback that was created (GPFSError for a definition)."""
        if self._spec is not None or self._id is None:
            raise GPFSError(f"callback {self._id or '(unnamed)'} has not been created")
        return self._id

    def _row(self) -> dict[str, Any]:
        row = listing(self._loader).get(self._created_id())
        if row is None:
            raise NotFoundError(f"Callback {self._id} does not exist.")
        return row

    def exists(self) -> bool:
        return self._spec is None and self._id in listing(self._loader)

    # -- properties --------------------------------------------------------------------
    @property
    def id(self) -> str | None:
        return self._id

    callbackId = id
    name = id

    @property
    def commandPath(self) -> str | None:
        if self._spec is not None:
            command = self._spec["command"]
            return command if isinstance(command, str) else None
        return self._row().get("command")

    @property
    def handlerFile(self) -> Path | None:
        if self._spec is not None:
            return None
        row = self._row()
        return store.handler_file(row.get("command"), row.get("parms"))

    def _record(self) -> store.HandlerRecord | None:
        path = self.handlerFile
        return store.load(path) if path is not None else None

    @property
    def handler(self) -> Handler | None:
        """The Python callable (or script path) a gpfskit handler runs; None otherwise."""
        if self._spec is not None:
            return self._spec["command"]
        record = self._record()
        if record is None:
            return None
        return record.script if record.script is not None else record.handler

    @property
    def command(self) -> Handler | None:
        if self._spec is not None:
            return self._spec["command"]
        if self.handlerFile is not None:
            try:
                return self.handler
            except GPFSError:
                pass
        return self.commandPath

    @property
    def events(self) -> list[str]:
        if self._spec is not None:
            event = self._spec["event"]
            return _events(event) if event is not None else []
        return [e for e in (self._row().get("event") or "").split(",") if e]

    @property
    def event(self) -> str:
        return ",".join(self.events)

    @property
    def parms(self) -> str:
        if self._spec is not None:
            parm = self._spec["parm"]
            return " ".join(_words(parm)) if parm is not None else ""
        return self._row().get("parms") or ""

    def _parts(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(filters, handler arguments) of a gpfskit handler's parms; ([], words) else."""
        words = self.parms.split()
        if self.handlerFile is None:
            return [], words
        rest = words[1 + len(store.CONTEXT):]
        filters = []
        for word in rest:
            match = _FILTER.match(word)
            if match is None:
                break
            filters.append((match.group(1), match.group(2)))
        return filters, rest[len(filters):]

    @property
    def filters(self) -> list[tuple[str, str]]:
        return [] if self._spec is not None else self._parts()[0]

    @property
    def parm(self) -> list[str]:
        if self._spec is not None:
            parm = self._spec["parm"]
            return _words(parm) if parm is not None else []
        return self._parts()[1]

    @property
    def sync(self) -> bool:
        if self._spec is not None:
            return bool(self._spec["sync"])
        return (self._row().get("sync") or "").lower() in ("yes", "true", "1")

    @property
    def priority(self) -> float | int | None:
        if self._spec is not None:
            return self._spec["priority"]
        return _number(self._row().get("priority"))

    @property
    def timeout(self) -> float | int | None:
        if self._spec is not None:
            return self._spec["timeout"]
        return _number(self._row().get("timeout"))

    @property
    def onerror(self) -> str | None:
        if self._spec is not None:
            return self._spec["onerror"]
        return self._row().get("onError") or None

    onError = onerror

    @property
    def nodeSpec(self) -> str | None:
        if self._spec is not None:
            nodes = self._spec["nodes"]
            return node_args(nodes, all_flag=False)[1] if nodes is not None else None
        return self._row().get("node") or None

    @property
    def nodes(self) -> list[str] | None:
        spec = self.nodeSpec
        return [n for n in spec.split(",") if n] if spec else None

    @property
    def system(self) -> bool:
        return self._id is not None and self._id.startswith(("gpfs", "mm"))

    # -- actions -----------------------------------------------------------------------
    def create(self) -> Callback:
        """Register this definition (it needs ``event``); returns the created Callback."""
        if self._spec is None:
            raise GPFSError(f"callback {self._id} already exists")
        created = Callbacks(_loader=self._loader).new(self)
        self._id, self._spec = created.id, None
        return self

    def delete(self) -> CommandResult:
        """``mmdelcallback <id>``, and the handler file of a gpfskit handler."""
        self._row()
        path = self.handlerFile
        ident = self._created_id()

        def patch() -> None:
            self._loader.patch([LISTING], lambda rows: rows.pop(ident, None))

        result = self._change(["mmdelcallback", ident], patch)
        if path is not None and not result.recorded:
            store.remove(path)
        return result


def _number(text: Any) -> float | int | None:
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return int(value) if value == int(value) else value


# -- Callbacks ---------------------------------------------------------------------------

class Callbacks(Collection[Callback]):
    """Every callback of the cluster, keyed by identifier."""

    _noun = "callback"

    def _where(self) -> str:
        return "on the cluster"

    def _build(self) -> dict[str, Callback]:
        return {ident: Callback._attach(self._loader, ident) for ident in listing(self._loader)}

    def new(self, handler: Any = None, event: Any = None, callbackId: str | None = None, *,
            command: Any = None, parm: Any = None, sync: bool | None = None, nodes: Any = None,
            priority: float | None = None, onerror: str | None = None,
            timeout: float | None = None, _scope: Scope | None = None,
            **kwargs: Any) -> Callback:
        """Add a callback and return it.

        ``handler`` (or ``command``) is a Python callable, a script path or a ``Callback``
        definition; ``event`` one event name, a comma-separated string or a list. Keywords:
        ``callbackId``, ``parm``/``parms``, ``sync`` (or ``async``), ``timeout``, ``onerror``,
        ``priority``, ``nodes``/``node``.
        """
        given = Callback(None, command, event, parm, sync, nodes, priority, onerror, timeout,
                         **kwargs)._spec
        assert given is not None
        if isinstance(handler, Callback):
            if handler._spec is None:
                raise ValueError(f"callback {handler.id} already exists")
            merged = dict(handler._spec)
            merged.update({k: v for k, v in given.items() if v is not None})
            spec = Callback(callbackId or handler.id, **merged)
        else:
            if handler is not None and command is not None:
                raise TypeError("give the handler once: as the first argument or as command=")
            given["command"] = command if command is not None else handler
            spec = Callback(callbackId, **given)
        return self._create(spec, _scope or Scope())

    def _create(self, spec: Callback, scope: Scope) -> Callback:
        values = spec._spec
        assert values is not None
        target = values["command"]
        if target is None:
            raise ValueError("give the handler: a Python callable or the path of a script")
        if values["event"] is None:
            raise ValueError("give the event (or events) the callback is for")
        names = _events(values["event"])
        if isinstance(target, os.PathLike):
            target = os.fspath(target)
        if isinstance(target, str):
            if not target.startswith("/"):
                raise ValueError(f"a script handler must be an absolute path, not {target!r}")
            arguments = _words(values["parm"]) if values["parm"] is not None else []
        elif callable(target):
            arguments = (_words(values["parm"]) if values["parm"] is not None
                         else [f"%{name}" for name in handler_variables(target)])
        else:
            raise TypeError(f"a handler is a callable or a script path, not "
                            f"{type(target).__name__}")
        ident = spec.id or new_identifier(target)
        sync = bool(values["sync"])
        options: list[str] = []
        if values["priority"] is not None:
            options += ["--priority", _priority(values["priority"])]
        if sync:
            options.append("--sync")
            if values["timeout"] is not None:
                options += ["--timeout", _timeout(values["timeout"])]
            if values["onerror"] is not None:
                options += ["--onerror", _onerror(values["onerror"])]
        elif values["timeout"] is not None or values["onerror"] is not None:
            raise ValueError("timeout and onerror apply to synchronous callbacks (sync=True)")
        nodes = node_args(values["nodes"], all_flag=False)[1] if values["nodes"] is not None \
            else scope.nodes
        if nodes is not None:
            options += ["-N", nodes]
        path: Path | None = None
        if isinstance(target, str) and not scope.filters:
            command, words = target, arguments
        else:
            directory = store.prepare_dir() if not getDryRun() else store.default_dir()
            record = store.HandlerRecord(
                ident, handler=None if isinstance(target, str) else target,
                script=target if isinstance(target, str) else None, nargs=len(arguments),
                filters=list(scope.filters))
            path = store.handler_path(directory, ident)
            words = record.parms(path, arguments)
            command = str(store.driver_path(directory))
            if not getDryRun():
                store.install_driver(directory)
                store.save(directory, record)
        argv = ["mmaddcallback", ident, "--command", command, "--event", ",".join(names),
                *options]
        if words:
            argv += ["--parms", " ".join(words)]
        row = {"identifier": ident, "command": command, "priority": values["priority"],
               "sync": "yes" if sync else "no", "timeout": values["timeout"],
               "onError": values["onerror"], "event": ",".join(names), "node": nodes,
               "parms": " ".join(words)}

        def patch() -> None:
            self._loader.patch([LISTING], lambda rows: rows.__setitem__(ident, row))

        try:
            self._change(argv, patch)
        except BaseException:
            if path is not None and not getDryRun():
                store.remove(path)
            raise
        return Callback._attach(self._loader, ident)

    def destroy(self, *callbacks: str | Callback) -> list[CommandResult]:
        """Remove callbacks (identifiers or Callback objects); KeyError for unknown ones."""
        return _delete_each(self, callbacks)


def _delete_each(collection: Collection[Callback], callbacks: Iterable[str | Callback]
                 ) -> list[CommandResult]:
    """Delete each callback (identifier or Callback) as found in ``collection``."""
    results = []
    for item in callbacks:
        results.append(collection[item].delete())
    return results


# -- on<Event> members -------------------------------------------------------------------

class EventCallbacks(Collection[Callback]):
    """The callbacks of one event for one object (``Filesystem('mmfs1').onMount``)."""

    _noun = "callback"

    def __init__(self, owner: Any, event: str, kind: str,
                 _loader: Loader | None = None) -> None:
        super().__init__(_loader if _loader is not None else owner._loader)
        self._owner = owner
        self._event = event
        self._kind = kind

    @property
    def event(self) -> str:
        return self._event

    def _scope(self) -> Scope:
        return KINDS[self._kind][1](self._owner, self._event)

    def _where(self) -> str:
        return f"for event {self._event} of {self._owner!r}"

    def _build(self) -> dict[str, Callback]:
        everything = Callbacks(_loader=self._loader)
        scope = None if self._kind == "cluster" else self._scope()
        chosen = {}
        for ident, cb in everything.items():
            if not any(event_catalog.canonical(e) == event_catalog.canonical(self._event)
                       for e in cb.events):
                continue
            if scope is None or scope.matches(cb):
                chosen[ident] = cb
        return chosen

    def new(self, handler: Any = None, callbackId: str | None = None, **kwargs: Any
            ) -> Callback:
        """Add a callback for this event, scoped to this object; see ``Callbacks.new``."""
        if "event" in kwargs or "events" in kwargs:
            raise TypeError(f"{member_name(self._event)}.new() is for event {self._event}; "
                            "use Cluster().callbacks.new() for other events")
        return Callbacks(_loader=self._loader).new(handler, self._event, callbackId,
                                                   _scope=self._scope(), **kwargs)

    def destroy(self, *callbacks: str | Callback) -> list[CommandResult]:
        return _delete_each(self, callbacks)

    def __call__(self, handler: Any = None, **kwargs: Any) -> Callback:
        """``fs.onMount(handler)`` is ``fs.onMount.new(handler)``."""
        return self.new(handler, **kwargs)


class EventMember:
    """The descriptor behind ``on<Event>``: an ``EventCallbacks`` for the instance."""

    def __init__(self, event: str, kind: str) -> None:
        self.event = event
        self.kind = kind

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return EventCallbacks(obj, self.event, self.kind)


def callbackable(kind: str) -> Callable[[type], type]:
    """Class decorator: add the ``on<Event>`` members of ``kind`` (``cluster``,
    ``filesystem``, ``fileset``, ``pool``, ``disk``, ``node``); a Cluster also gets its
    ``callbacks`` collection."""
    events, _ = KINDS[kind]

    def decorate(cls: type) -> type:
        for event in events:
            name = member_name(event)
            if name not in cls.__dict__:
                setattr(cls, name, EventMember(event, kind))
        if kind == "cluster" and "callbacks" not in cls.__dict__:
            def callbacks(self: Any) -> Callbacks:
                return Callbacks(_loader=self._loader)

            prop = cached_property(callbacks)
            prop.__set_name__(cls, "callbacks")
            cls.callbacks = prop  # type: ignore[attr-defined]
        return cls

    return decorate

