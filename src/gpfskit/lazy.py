"""Package attributes imported from their module on first use.

A package that re-exports the names of its modules, but should not import them all when it
is imported (so that a command loads only what it uses), sets::

    __getattr__, __dir__ = lazy.exports(__name__, {"Name": "module", ...})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, names: Mapping[str, str]
            ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` importing ``names[name]`` (a submodule of ``package``) the
    first time ``name`` is asked for, and the matching ``__dir__``."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
