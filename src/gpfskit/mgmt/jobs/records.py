"""Job records and the item states that follow them.

An item with a job moves NEW -> PENDING (job queued) -> INPROGRESS (job running) ->
ACTIVE, or ERRORED with the job's reason as its ``status_message``; a successful delete job
removes the item. The job itself is PENDING, RUNNING, COMPLETED or ERRORED.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gpfskit.mgmt import models
from gpfskit.mgmt import resources as registry

JOB_TO_ITEM = {models.JOB_PENDING: models.PENDING, models.JOB_RUNNING: models.INPROGRESS,
               models.JOB_COMPLETED: models.ACTIVE, models.JOB_ERRORED: models.ERRORED}


def item_of(s: Session, job: models.Job) -> Any | None:
    if not job.resource_type or job.resource_type not in registry.REGISTRY:
        return None
    return s.get(registry.get(job.resource_type).model, job.resource_id)


def new_job(s: Session, job_type: str, requester: str, resource: str | None = None,
            item: Any | None = None) -> models.Job:
    """A PENDING job (flushed, not yet queued); its item becomes PENDING too."""
    job = models.Job(name=job_type, type=job_type, requester=requester,
                     resource_type=resource, resource_id=item.id if item is not None else None,
                     status=models.PENDING, status_message="waiting for a worker")
    s.add(job)
    s.flush()
    if item is not None:
        item.status = models.DELETING if job_type == "delete" else models.PENDING
        item.status_message = f"{job_type} job {job.id} is waiting for a worker"
    return job


def set_state(s: Session, job: models.Job, state: str, reason: str = "") -> None:
    """Move ``job`` (and its item) to ``state``."""
    job.state = state
    job.status = JOB_TO_ITEM[state]
    now = models.utcnow()
    if state == models.JOB_RUNNING:
        job.started = now
        job.status_message = f"running on {job.worker}"
    elif state in (models.JOB_COMPLETED, models.JOB_ERRORED):
        job.finished = now
        job.reason = reason
        job.status_message = "completed" if state == models.JOB_COMPLETED else \
            f"failed: {reason}"
    else:
        job.status_message = "waiting for a worker"
    item = item_of(s, job)
    if item is None:
        return
    if state == models.JOB_COMPLETED and job.type == "delete":
        s.delete(item)
        return
    if state == models.JOB_RUNNING:
        item.status = models.DELETING if job.type == "delete" else models.INPROGRESS
        item.status_message = f"{job.type} job {job.id} is running"
    elif state == models.JOB_PENDING:
        item.status = models.DELETING if job.type == "delete" else models.PENDING
        item.status_message = f"{job.type} job {job.id} is waiting for a worker"
    elif state == models.JOB_COMPLETED:
        item.status = models.ACTIVE
        item.status_message = "ready"
    else:
        item.status = models.ERRORED
        item.status_message = f"{job.type} failed: {reason}"
