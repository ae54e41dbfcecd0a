"""Jobs that would otherwise never finish: left RUNNING by a worker that stopped (killed,
crashed, node restarted), or left PENDING with their queued task lost.

A RUNNING job is interrupted when its worker is a process of this host that no longer
exists, or when its heartbeat is older than :data:`STALE_SECONDS` (a worker elsewhere). A
job whose task is retry-safe runs again (up to :data:`MAX_ATTEMPTS` starts); any other is
marked ERRORED with the reason, and so is its item, which can then be retried by PATCHing
its status to NEW.

A PENDING job is lost when it has waited longer than the grace period
(``gpfskit.management.jobs.pending_grace``) and no task of the queue carries its id: the
queue lost its message (Redis keeps nothing on disk, the queue file was removed) or the
service stopped between storing the job and queueing it. Its task has not started since it
became PENDING (never, or not since recovery judged it safe to run again), so it is queued
again. One conditional UPDATE takes the job first, so two sweeps never both queue it; and
should a worker have taken its message at that very moment, the worker's own claim
(PENDING -> RUNNING) still lets only one of the two messages run it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from gpfskit.mgmt import messages, models, store
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.jobs import records

log = logging.getLogger(__name__)
STALE_SECONDS = 60
MAX_ATTEMPTS = 3


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupted(job: models.Job, now) -> str | None:
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return None
        if not _process_alive(int(pid)):
            return f"worker {job.worker} stopped while the job ran"
    if job.heartbeat is None or now - job.heartbeat > timedelta(seconds=STALE_SECONDS):
        return f"worker {job.worker} gave no sign of life for over {STALE_SECONDS} s"
    return None


def recover(url: str) -> list[str]:
    """Deal with interrupted jobs; returns the ids of those to queue again."""
    requeue = []
    with store.session(url) as s:
        now = models.utcnow()
        running = s.scalars(select(models.Job).where(models.Job.state == models.JOB_RUNNING))
        for job in running:
            reason = _interrupted(job, now)
            if reason is None:
                continue
            task = registry.find_task(job)
            if task is not None and task.retry_safe and job.attempts < MAX_ATTEMPTS:
                records.set_state(s, job, models.JOB_PENDING)
                job.stderr += f"\nINFO:gpfskit.mgmt.jobs:interrupted ({reason}); retrying\n"
                requeue.append(job.id)
                action = "queued again"
            else:
                records.set_state(s, job, models.JOB_ERRORED, f"interrupted: {reason}")
                action = "marked ERRORED"
            messages.log(log, "GK0401W", job=job.id, reason=reason, action=action)
    return requeue


def requeue_lost(url: str, grace: float, queued: Callable[[], set[str]]) -> list[str]:
    """Take the PENDING jobs older than ``grace`` seconds whose ids ``queued()`` (the job ids
    in the queue, read only when there are such jobs) lacks; returns their ids, to queue
    again."""
    requeue = []
    with store.session(url) as s:
        now = models.utcnow()
        waiting = s.scalars(select(models.Job).where(
            models.Job.state == models.JOB_PENDING,
            models.Job.updated < now - timedelta(seconds=grace))).all()
        in_queue = queued() if waiting else set()
        for job in waiting:
            if job.id in in_queue:
                continue
            taken = s.execute(update(models.Job).where(
                models.Job.id == job.id, models.Job.state == models.JOB_PENDING,
                models.Job.updated == job.updated).values(updated=now)).rowcount
            if not taken:  # claimed by a worker, or taken by another sweep, meanwhile
                continue
            waited = (now - job.updated).total_seconds()
            reason = f"no task of it in the queue after {waited:.0f} s PENDING"
            records.set_state(s, job, models.JOB_PENDING)
            job.stderr += f"\nINFO:gpfskit.mgmt.jobs:its queued task was lost ({reason}); " \
                          "queued again\n"
            requeue.append(job.id)
            messages.log(log, "GK0402W", job=job.id, reason=reason)
    return requeue
