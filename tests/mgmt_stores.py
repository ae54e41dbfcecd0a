"""Real databases and job queues for the management service's tests: SQLite always,
PostgreSQL and Redis when a server answers (the test skips, saying why, when none does).
Each test gets a database / queue name of its own, dropped afterwards."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES = os.environ.get("GPFSKIT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("GPFSKIT_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _postgres_admin():
    import psycopg

    try:
        return psycopg.connect(POSTGRES.replace("+psycopg", "") + "/postgres", autocommit=True,
                               connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {POSTGRES}: {str(exc).strip()}")


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of ``kind`` (sqlite or postgresql)."""
    from gpfskit.mgmt import store

    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'mgmt.db'}"
        store.dispose()
        return
    name = f"gpfskit_{uuid.uuid4().hex[:12]}"
    with _postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        store.dispose()
        with _postgres_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {REDIS}: {exc}")
    return REDIS


def settings_for(url: str, tmp_path: Path, storage: str = "sqlite"):
    """Service settings on database ``url`` with a job queue of its own."""
    from gpfskit.mgmt import settings

    base = settings.load()
    queue = f"gpfskittest{uuid.uuid4().hex[:12]}"  # Redis keys keep only [a-z0-9]
    return dataclasses.replace(
        base, database_url=url, job_storage=storage, job_queue=queue,
        job_path=str(tmp_path / "jobs.db"),
        job_redis_url=redis_url() if storage == "redis" else base.job_redis_url)


def drop_redis_queue(settings) -> None:
    if settings.job_storage != "redis":
        return
    import redis

    client = redis.Redis.from_url(settings.job_redis_url)
    keys = list(client.scan_iter(f"*{settings.job_queue}*"))
    if keys:
        client.delete(*keys)
