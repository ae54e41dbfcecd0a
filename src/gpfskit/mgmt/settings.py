"""What the management service reads from the configuration directives, read once per start.

Every setting is a directive declared in :mod:`gpfskit.config` (``gpfskit config list`` shows
them with their defaults); :func:`load` snapshots them so that one process sees one
consistent set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gpfskit.config import config


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    server_url: str
    auth_url: str
    database_url: str
    certificate: str | None
    key: str | None
    token_expiry: int
    pam: bool
    job_storage: str
    job_path: str
    job_redis_url: str
    job_queue: str
    job_workers: int
    job_pending_grace: float
    plugins: tuple[str, ...]
    fileset_exclude: tuple[str, ...]

    @property
    def tls(self) -> bool:
        return bool(self.certificate)


def database_url() -> str:
    """The SQLAlchemy URL of the store: the URL directive, else the SQLite file."""
    url = config["arcapix.management.database.url"]
    if url:
        return url
    return "sqlite:///" + os.path.abspath(config["arcapix.management.database.path"])


def load() -> Settings:
    db_path = os.path.abspath(config["arcapix.management.database.path"])
    return Settings(
        host=config["gpfskit.management.host"],
        port=int(config["gpfskit.management.port"]),
        server_url=config["arcapix.management.server.url"].rstrip("/"),
        auth_url=config["arcapix.auth.server.url"].rstrip("/"),
        database_url=database_url(),
        certificate=config["gpfskit.management.tls.certificate"],
        key=config["gpfskit.management.tls.key"],
        token_expiry=int(config["gpfskit.management.tokens.expiry"]),
        pam=bool(config["gpfskit.management.pam"]),
        job_storage=config["gpfskit.management.jobs.storage"],
        job_path=config["gpfskit.management.jobs.path"]
        or os.path.join(os.path.dirname(db_path), "jobs.db"),
        job_redis_url=config["gpfskit.management.jobs.redis_url"],
        job_queue=config["gpfskit.management.jobs.name"],
        job_workers=int(config["gpfskit.management.jobs.workers"]),
        job_pending_grace=float(config["gpfskit.management.jobs.pending_grace"]),
        plugins=tuple(config["gpfskit.management.plugins"]),
        fileset_exclude=tuple(config["arcapix.management.filesets.exclude"]),
    )
