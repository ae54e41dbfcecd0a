"""Ship user callables to other processes, keeping where their code came from.

Map-reduce functions, list processors and event handlers are written by users, pickled by
value with cloudpickle (lambdas and closures must work) and run in another process: a list
driver on some node, or the callback driver. When one fails, the user must see their own
file, line and source line in the traceback.

cloudpickle 3.1.3 and later write every code object pickled by value with the file name
``<dynamic-code>`` (so that payloads are deterministic), and no release ever carried the
source text. So :func:`dumps` records, next to the pickled object, the file name of each
user function reachable from it and the lines of those files; :func:`loads` gives each
loaded code object its file name back and serves the recorded lines through
:mod:`linecache`, so tracebacks show the source even on a node where the file does not
exist, or has changed since. This works the same with every cloudpickle 3.x: when the file
name survived pickling, restoring it changes nothing.

The loading side imports only the standard library, so that a list driver starts fast.
"""

from __future__ import annotations

import functools
import linecache
import pickle
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: The file name cloudpickle >= 3.1.3 gives code pickled by value.
DYNAMIC_CODE = "<dynamic-code>"

_CodeKey = tuple[str, int]  # (co_qualname, co_firstlineno): the same on both sides


@dataclass
class Shipped:
    """A pickled object with the origins of the user code it holds."""

    obj: Any
    files: dict[_CodeKey, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)


def dumps(obj: Any, by_value: Iterable[types.ModuleType] = ()) -> bytes:
    """cloudpickle ``obj`` (the modules in ``by_value`` pickled by value) with its origins."""
    import cloudpickle

    shipped = Shipped(obj)
    for function in _functions(obj):
        code = function.__code__
        filename = code.co_filename
        if filename.startswith("<") and filename != "<stdin>":
            continue  # no file to point at (exec'd or interactive code)
        shipped.files[(code.co_qualname, code.co_firstlineno)] = filename
        if filename not in shipped.sources:
            lines = linecache.getlines(filename, function.__globals__)
            if lines:
                shipped.sources[filename] = lines
    registered = []
    try:
        for module in by_value:
            try:
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
            except (ValueError, TypeError):
                pass
        return cloudpickle.dumps(shipped, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for module in registered:
            try:
                cloudpickle.unregister_pickle_by_value(module)
            except ValueError:
                pass


def loads(data: bytes) -> Any:
    """The object :func:`dumps` shipped, its functions pointing at their own source again.

    A payload written by plain pickle or cloudpickle (older handler files) loads as is.
    """
    loaded = pickle.loads(data)
    if not isinstance(loaded, Shipped):
        return loaded
    for filename, lines in loaded.sources.items():
        # An entry with no modification time is never re-read or dropped by checkcache().
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    for function in _functions(loaded.obj):
        code = function.__code__
        filename = loaded.files.get((code.co_qualname, code.co_firstlineno))
        if filename is not None and code.co_filename != filename:
            function.__code__ = _renamed(code, filename)
    return loaded.obj


def _renamed(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(_renamed(c, filename) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _functions(root: Any) -> Iterator[types.FunctionType]:
    """The Python functions reachable from ``root`` through what calling them can use:
    closures, defaults, the globals their code names, partials, bound methods and the
    fields of plain containers and dataclass-like objects."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            yield obj
            stack.extend(cell.cell_contents for cell in obj.__closure__ or ()
                         if _has_contents(cell))
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
            names = _global_names(obj.__code__)
            stack.extend(v for k, v in obj.__globals__.items()
                         if k in names and isinstance(v, types.FunctionType))
        elif isinstance(obj, types.MethodType):
            stack.append(obj.__func__)
        elif isinstance(obj, functools.partial):
            stack.extend((obj.func, *obj.args, *obj.keywords.values()))
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)):
            stack.extend(vars(obj).values())


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _has_contents(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True
