"""Per-file GPFS facts for an open file descriptor (gpfs_fcntl): fileset, pool, snapshot,
replication; plus the Windows attributes by path.

``get_winattrs``/``set_winattrs`` need a real cluster: the emulated one keeps no Windows
attributes and answers ENOSYS (see docs/clib.md).
"""

from __future__ import annotations

from gpfskit.clib import backend, flags

__all__ = ["get_fileset_name", "get_replication", "get_snapshot_name", "get_status_strings",
           "get_storage_pool", "get_winattrs", "get_winattrs_strings", "set_winattrs"]

# WA_* names for the Windows attributes (GPFS_WINATTR_*).
for _name, _bit in flags.WINFLAGS.items():
    globals()[f"WA_{_name}"] = _bit
    __all__.append(f"WA_{_name}")


def get_fileset_name(fd: int) -> str:
    """The fileset of the open file ``fd`` ('root' for the root fileset)."""
    return backend.current().fd_fileset(fd)


def get_storage_pool(fd: int) -> str:
    """The storage pool holding the open file's data."""
    return backend.current().fd_pool(fd)


def get_snapshot_name(fd: int) -> str:
    """The snapshot the open file is in, '' for the live file system."""
    return backend.current().fd_snapshot(fd)


def get_replication(fd: int) -> dict[str, int | str]:
    """``metadataReplicas``, ``maxMetadataReplicas``, ``dataReplicas``, ``maxDataReplicas``,
    ``status`` (decode with ``get_status_strings``) and ``pool``."""
    return backend.current().fd_replication(fd)


def get_status_strings(value: int) -> list[str]:
    """A replication ``status`` decoded (EXPOSED, ILLREPLICATE, UNBALANCED, ...)."""
    return flags.names_of(value, flags.REPLICATION_STATUS)


def get_winattrs(path: str) -> int:
    """The Windows attributes of ``path`` (WA_* bits)."""
    return backend.current().winattrs(path, None)


def set_winattrs(path: str, attrs: int) -> None:
    """Set the Windows attributes of ``path``. Needs write access to the file."""
    backend.current().winattrs(path, attrs)


def get_winattrs_strings(value: int) -> list[str]:
    return flags.names_of(value, flags.WINFLAGS)
