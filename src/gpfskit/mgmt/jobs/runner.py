"""What a worker does with a job id: claim it, run its task with its output captured, and
record the outcome. A job is claimed with one conditional UPDATE (PENDING -> RUNNING), so two
workers never run the same job."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback

from sqlalchemy import update

from gpfskit.mgmt import models, store
from gpfskit.mgmt import resources as registry
from gpfskit.mgmt.jobs import capture, records

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(job_id: str, url: str) -> models.Job | None:
    with store.session(url) as s:
        now = models.utcnow()
        claimed = s.execute(update(models.Job).where(
            models.Job.id == job_id, models.Job.state == models.JOB_PENDING).values(
            state=models.JOB_RUNNING, worker=worker_name(), heartbeat=now,
            attempts=models.Job.attempts + 1)).rowcount
        if not claimed:
            return None
        job = s.get(models.Job, job_id)
        records.set_state(s, job, models.JOB_RUNNING)
        return job


def _beat(job_id: str, url: str, buffers: capture.Buffers, stop: threading.Event) -> None:
    """Keep the job's heartbeat fresh and its logs readable while it runs."""
    while not stop.wait(HEARTBEAT_SECONDS):
        out, err = buffers.texts()
        try:
            with store.session(url) as s:
                s.execute(update(models.Job).where(models.Job.id == job_id).values(
                    heartbeat=models.utcnow(), stdout=out, stderr=err))
        except Exception:  # the next beat tries again
            log.exception("heartbeat of job %s failed", job_id)


def run(job_id: str, url: str) -> None:
    job = _claim(job_id, url)
    if job is None:
        log.info("job %s is not pending any more - skipped", job_id)
        return
    task = registry.find_task(job)
    stop = threading.Event()
    reason = ""
    with capture.capturing() as buffers:
        buffers.stdout.write(job.stdout)  # what earlier, interrupted attempts logged
        buffers.stderr.write(job.stderr)
        beat = threading.Thread(target=_beat, args=(job_id, url, buffers, stop), daemon=True)
        beat.start()
        try:
            if task is None:
                raise LookupError(f"no task runs {job.type!r} jobs"
                                  + (f" for {job.resource_type}" if job.resource_type else ""))
            logging.getLogger("gpfskit.mgmt.jobs").info(
                "%s job %s for %s started on %s", job.type, job.id,
                job.resource_type or "the service", worker_name())
            task.function(job.resource_id or "", job.id)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            with buffers.lock:
                buffers.stderr.write(traceback.format_exc())
        finally:
            stop.set()
            beat.join()
    out, err = buffers.texts()
    with store.session(url) as s:
        job = s.get(models.Job, job_id)
        job.stdout, job.stderr = out, err
        records.set_state(s, job, models.JOB_ERRORED if reason else models.JOB_COMPLETED,
                          reason)
