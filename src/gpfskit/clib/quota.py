"""Quotas by path (gpfs_quotactl). ``pathname`` may be any path in the file system.

On a real cluster reading another user's quota and switching quotas need root.
"""

from __future__ import annotations

from gpfskit.clib import backend

__all__ = ["Q_FSET", "Q_GRP", "Q_USR", "get_quota", "quota_off", "quota_on"]

Q_USR, Q_GRP, Q_FSET = 0, 1, 2   # GPFS_USRQUOTA, GPFS_GRPQUOTA, GPFS_FILESETQUOTA


def get_quota(pathname: str, type: int, id: int) -> dict[str, int]:
    """Usage and limits: ``block*`` (KB) and ``inode*`` × Usage, HardLimit, SoftLimit,
    InDoubt, GraceTime, plus ``quoId``."""
    return backend.current().quota(pathname, type, id)


def quota_on(pathname: str, type: int) -> None:
    """Enforce quotas of ``type`` on the file system holding ``pathname``."""
    backend.current().quota_switch(pathname, type, True)


def quota_off(pathname: str, type: int) -> None:
    """Stop enforcing quotas of ``type``."""
    backend.current().quota_switch(pathname, type, False)
