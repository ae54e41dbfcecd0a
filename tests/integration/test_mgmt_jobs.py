"""The job machinery with real queues (Huey on SQLite, and on Redis) and real stores (SQLite,
PostgreSQL): item states follow their job, logs are captured per job, failures are recorded,
interrupted jobs are recovered."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from gpfskit.mgmt import models, resources, store
from gpfskit.mgmt.jobs import engine, records, recovery
from gpfskit.mgmt.jobs.workers import Workers
from helpers import wait_for
from mgmt_stores import database, drop_redis_queue, settings_for

resources.load()
CALLS: list[tuple[str, str]] = []


def _create_profile(item_id: str, job_id: str) -> None:
    CALLS.append((item_id, job_id))
    print("made on the cluster")
    logging.getLogger("gpfskit.mgmt.test").debug("creating profile %s", item_id)


def _fail(item_id: str, job_id: str) -> None:
    logging.getLogger("gpfskit.mgmt.test").warning("about to fail")
    raise RuntimeError("the pool is full")


@pytest.fixture(params=[("sqlite", "sqlite"), ("postgresql", "sqlite"), ("sqlite", "redis")],
                ids=["sqlite-store+sqlite-queue", "postgresql-store", "redis-queue"])
def queue_settings(request, tmp_path, _isolated_config):
    """Settings on a fresh store and a queue of their own, no worker running."""
    db_kind, queue_kind = request.param
    with database(db_kind, tmp_path) as url:
        store.migrate(url)
        settings = settings_for(url, tmp_path, queue_kind)
        try:
            yield settings
        finally:
            drop_redis_queue(settings)


@pytest.fixture
def workers(queue_settings):
    pool = Workers(queue_settings, threads=2)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()


def _store_job(settings, task) -> tuple[str, str]:
    """A PENDING job for a new item, in the store only (not queued)."""
    resources.add_task("profiles", "create", task)
    with store.session(settings.database_url) as s:
        item = models.Profile(name=f"p{time.monotonic_ns()}", filesystem="mmfs1", pool="sas1")
        s.add(item)
        s.flush()
        job = records.new_job(s, "create", "tester", "profiles", item)
        assert item.status == models.PENDING
        return item.id, job.id


def _submit(settings, task) -> tuple[str, str]:
    ids = _store_job(settings, task)
    engine.enqueue(settings, ids[1])
    return ids


def _finished(settings, job_id: str) -> models.Job | None:
    with store.session(settings.database_url) as s:
        job = s.get(models.Job, job_id)
        return job if job.state in (models.JOB_COMPLETED, models.JOB_ERRORED) else None


@pytest.fixture(autouse=True)
def _no_tasks_left():
    yield
    resources.get("profiles").tasks.clear()


def test_a_job_runs_its_task_and_the_item_becomes_active(workers):
    item_id, job_id = _submit(workers.settings, _create_profile)
    job = wait_for(lambda: _finished(workers.settings, job_id), timeout=30)
    assert job and job.state == models.JOB_COMPLETED, job and job.reason
    assert (item_id, job_id) in CALLS
    assert job.stdout == "made on the cluster\n"
    assert f"DEBUG:gpfskit.mgmt.test:creating profile {item_id}" in job.stderr
    assert job.started and job.finished and job.attempts == 1
    with store.session(workers.settings.database_url) as s:
        item = s.get(models.Profile, item_id)
        assert (item.status, item.status_message) == (models.ACTIVE, "ready")


def test_a_failing_task_leaves_the_item_errored_with_the_reason(workers):
    item_id, job_id = _submit(workers.settings, _fail)
    job = wait_for(lambda: _finished(workers.settings, job_id), timeout=30)
    assert job.state == models.JOB_ERRORED and job.reason == "the pool is full"
    assert "WARNING:gpfskit.mgmt.test:about to fail" in job.stderr
    assert "RuntimeError: the pool is full" in job.stderr
    with store.session(workers.settings.database_url) as s:
        item = s.get(models.Profile, item_id)
        assert item.status == models.ERRORED
        assert item.status_message == "create failed: the pool is full"


def test_interrupted_jobs_are_retried_or_marked_errored(tmp_path, _isolated_config):
    with database("sqlite", tmp_path) as url:
        store.migrate(url)
        resources.add_task("profiles", "create", _create_profile, retry_safe=False)
        resources.add_job_type("test-safe", _create_profile, retry_safe=True)
        with store.session(url) as s:
            item = models.Profile(name="p", filesystem="mmfs1", pool="sas1")
            s.add(item)
            s.flush()
            unsafe = records.new_job(s, "create", "t", "profiles", item)
            safe = records.new_job(s, "test-safe", "t")
            alive = records.new_job(s, "test-safe", "t")
            for job, worker in ((unsafe, "dead"), (safe, "dead"), (alive, "alive")):
                job.worker = f"{socket.gethostname()}:" + ("999999999" if worker == "dead"
                                                            else "1")
                job.heartbeat = models.utcnow()
                records.set_state(s, job, models.JOB_RUNNING)
            ids = unsafe.id, safe.id, alive.id, item.id
        assert recovery.recover(url) == [ids[1]]
        with store.session(url) as s:
            unsafe, safe, alive = (s.get(models.Job, i) for i in ids[:3])
            assert unsafe.state == models.JOB_ERRORED
            assert unsafe.reason.startswith("interrupted: worker ")
            assert s.get(models.Profile, ids[3]).status == models.ERRORED
            assert safe.state == models.JOB_PENDING
            assert alive.state == models.JOB_RUNNING  # pid 1 is alive
        resources.JOB_TYPES.pop("test-safe")


def test_an_errored_item_is_retried_by_patching_its_status_to_new(workers):
    from gpfskit.mgmt import writes
    from gpfskit.mgmt.errors import APIError

    settings = workers.settings
    item_id, job_id = _submit(settings, _fail)
    assert wait_for(lambda: _finished(settings, job_id), timeout=30).state == models.JOB_ERRORED
    resources.add_task("profiles", "create", _create_profile)  # the cause is fixed
    profiles = resources.get("profiles")
    with store.session(settings.database_url) as s:
        item = s.get(models.Profile, item_id)
        with pytest.raises(APIError) as refused:
            writes.change(s, profiles, item, {"status": "ACTIVE"}, "tester")
        assert refused.value.status == 422
    with store.session(settings.database_url) as s:
        item = s.get(models.Profile, item_id)
        retry = writes.change(s, profiles, item, {"status": "NEW"}, "tester")
        assert (retry.type, item.status) == ("create", models.PENDING)
        retry_id = retry.id
    engine.enqueue(settings, retry_id)
    assert wait_for(lambda: _finished(settings, retry_id), timeout=30).state == \
        models.JOB_COMPLETED
    with store.session(settings.database_url) as s:
        assert s.get(models.Profile, item_id).status == models.ACTIVE


def test_a_pending_job_whose_task_was_lost_is_queued_again_once(queue_settings):
    """Stored, then the service stopped before queueing it (or the queue lost it)."""
    settings, url = queue_settings, queue_settings.database_url
    item_id, lost = _submit(settings, _create_profile)
    engine.queue(settings).flush()  # the queue's storage wiped
    kept = _submit(settings, _create_profile)[1]
    assert engine.queued(settings) == {kept}

    def queued_meanwhile_by_another_sweep() -> set[str]:
        assert recovery.requeue_lost(url, 0, lambda: engine.queued(settings)) == [lost]
        return {kept}  # what this sweep saw before the other one queued the lost job

    assert recovery.requeue_lost(url, 0, queued_meanwhile_by_another_sweep) == []
    engine.enqueue(settings, lost)
    assert recovery.requeue_lost(url, 0, lambda: engine.queued(settings)) == []
    assert recovery.requeue_lost(url, 3600, lambda: set()) == []  # within the grace period
    with store.session(url) as s:
        job = s.get(models.Job, lost)
        assert job.state == models.JOB_PENDING and "its queued task was lost" in job.stderr
        assert s.get(models.Profile, item_id).status == models.PENDING
    pool = Workers(settings, threads=1)
    pool.start()
    try:
        for job_id in (lost, kept):
            job = wait_for(lambda job_id=job_id: _finished(settings, job_id), timeout=30)
            assert job.state == models.JOB_COMPLETED and job.attempts == 1
    finally:
        pool.stop()
    with store.session(url) as s:
        assert s.get(models.Profile, item_id).status == models.ACTIVE
