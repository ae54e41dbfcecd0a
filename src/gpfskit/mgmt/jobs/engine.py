"""The Huey queue and its workers.

One Huey task, ``gpfskit.run_job(job_id)``, carries every job: the job record in the store
says what to run, so the queue holds only ids and any worker of any node can run any job.
Storage is SQLite (a file beside the store; the default, one node) or Redis (several nodes),
by the directive ``gpfskit.management.jobs.storage``.
"""

from __future__ import annotations

import logging
import threading

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from gpfskit.mgmt.settings import Settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_instances: dict[tuple[str, str, str, str], Huey] = {}


def queue(settings: Settings) -> Huey:
    """The Huey instance of ``settings`` (one per storage per process)."""
    target = settings.job_redis_url if settings.job_storage == "redis" else settings.job_path
    key = (settings.job_storage, target, settings.job_queue, settings.database_url)
    with _lock:
        if key not in _instances:
            if settings.job_storage == "redis":
                huey: Huey = RedisHuey(settings.job_queue, url=target, results=False)
            elif settings.job_storage == "sqlite":
                huey = SqliteHuey(settings.job_queue, filename=target, results=False)
            else:
                raise ValueError(f"gpfskit.management.jobs.storage: unknown storage "
                                 f"{settings.job_storage!r} (use sqlite or redis)")
            _register(huey, settings.database_url)
            _instances[key] = huey
        return _instances[key]


def _register(huey: Huey, database_url: str) -> None:
    """The one task; the store it reads is this process's (each node has its own URL)."""
    from gpfskit.mgmt.jobs import runner

    @huey.task(name="gpfskit.run_job")
    def run_job(job_id: str) -> None:
        runner.run(job_id, database_url)

    huey.run_job = run_job  # type: ignore[attr-defined]


def enqueue(settings: Settings, job_id: str) -> None:
    queue(settings).run_job(job_id)  # type: ignore[attr-defined]


def queued(settings: Settings) -> set[str]:
    """The ids of the jobs whose task waits in the queue (read whole: for the recovery of
    lost ones, only when some job has been PENDING for longer than the grace period)."""
    huey = queue(settings)
    return {task.args[0] for task in [*huey.pending(), *huey.scheduled()]}


class _QuietConsumer(Consumer):
    """A consumer that leaves signal handling to its host (uvicorn, or the worker CLI)."""

    def _set_signal_handlers(self) -> None:
        pass


def consumer(settings: Settings, workers: int) -> Consumer:
    return _QuietConsumer(queue(settings), workers=workers, worker_type="thread",
                          periodic=False, initial_delay=0.05, backoff=1.5, max_delay=1.0,
                          check_worker_health=False, shutdown_timeout=10)
