"""Which backend answers the C library calls: libgpfs or the emulated cluster.

Chosen like the commands' backend, by ``gpfskit.cluster.backend``: ``scale`` binds
``libgpfs.so`` through ctypes (``gpfskit.clib.libgpfs``, loaded on the first call that needs
it; no compiler is needed on the cluster nodes), ``emulated`` answers from the emulated
cluster under ``gpfskit.emulator.root``. A backend object is made once per kind and root
(or library path).
"""

from __future__ import annotations

import functools
from typing import Any

from gpfskit.config import config


@functools.lru_cache(maxsize=4)
def _backend(kind: str, where: str) -> Any:
    if kind == "emulated":
        from gpfskit.clib.emulated.backend import EmulatedBackend

        return EmulatedBackend(where)
    from gpfskit.clib.libgpfs import LibgpfsBackend

    return LibgpfsBackend(where)


def current() -> Any:
    """The backend object for this process's configuration."""
    kind = config["gpfskit.cluster.backend"]
    if kind == "emulated":
        return _backend(kind, config["gpfskit.emulator.root"])
    return _backend(kind, config["gpfskit.clib.library"])


def of(obj: Any) -> Any:
    """The backend that made a handle, scan or ifile (else the configured one): a handle
    keeps working with the backend it came from, and calls on it read no configuration."""
    owner = getattr(obj, "_owner", None)
    return owner if owner is not None else current()
