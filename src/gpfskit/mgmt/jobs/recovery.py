"""Jobs left RUNNING by a worker that stopped (killed, crashed, node restarted).

A RUNNING job is interrupted when its worker is a process of this host that no longer
exists, or when its heartbeat is older than :data:`STALE_SECONDS` (a worker elsewhere). A
job whose task is retry-safe runs again (up to :data:`MAX_ATTEMPTS` starts); any other is
marked ERRORED with the reason, and so is its item, which can then be retried by PATCHing
its status to NEW.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import select

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
