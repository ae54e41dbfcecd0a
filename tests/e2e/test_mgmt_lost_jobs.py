"""No job stays PENDING when the queue loses its task: jobs are submitted over REST while no
worker runs, the queue's storage is wiped with the service stopped (the SQLite queue file
removed; the Redis keys deleted, as a Redis restart without persistence leaves them), and
after the next start the job and its item end COMPLETED and ACTIVE, each run once."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from mgmt_service import Service, data, items, wait_for_job, write_directive
from mgmt_stores import redis_url

CJ = {"Content-Type": "application/vnd.collection+json"}


def _queue_directives(kind: str) -> dict:
    if kind == "sqlite":
        return {}
    return {"gpfskit.management.jobs.storage": "redis",
            "gpfskit.management.jobs.redis_url": redis_url(),
            "gpfskit.management.jobs.name": f"gpfskitlost{uuid.uuid4().hex[:12]}"}


def _delete_redis_queue(directives: dict) -> int:
    import redis

    client = redis.Redis.from_url(directives["gpfskit.management.jobs.redis_url"])
    keys = list(client.scan_iter(f"*{directives['gpfskit.management.jobs.name']}*"))
    return client.delete(*keys) if keys else 0


def _lose_the_queue(service: Service, kind: str, directives: dict) -> None:
    if kind == "sqlite":
        assert (service.base / "jobs.db").exists()
        for suffix in ("", "-wal", "-shm"):
            (service.base / f"jobs.db{suffix}").unlink(missing_ok=True)
    else:
        assert _delete_redis_queue(directives), "the queued task is not in Redis"


def _create_space(service: Service, name: str) -> tuple[str, str]:
    """POST a space; returns its href and its job's (the job stays PENDING: no worker)."""
    session = service.session()
    url = service.url

    def find(resource: str, where: dict) -> str:
        resp = session.get(url + f"/{resource}/", params={"where": json.dumps(where)})
        return resp.json()["collection"]["items"][0]["href"]

    body = {"template": {"data": [{"name": k, "value": v} for k, v in {
        "name": name, "relativepath": f"projects/{name}", "size": 1024 ** 3,
        "profile": find("profiles", {"name": "mmfs1-sas1"}),
        "exposers": find("exposers", {"type": "gpfsnative", "name": "mmfs1"})}.items()]}}
    resp = session.post(url + "/spaces/", json=body, headers=CJ)
    assert resp.status_code == 202, resp.text
    space_id = data(resp.json()["collection"]["items"][0])["id"]
    [job] = session.get(url + "/jobs/", params={
        "where": json.dumps({"resource_id": space_id})}).json()["collection"]["items"]
    assert data(job)["state"] == "PENDING"
    return resp.headers["Location"].removeprefix(url).split("?")[0], job["href"]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_job_whose_queued_task_was_lost_is_queued_again(tmp_path, kind):
    directives = _queue_directives(kind)
    service = Service(tmp_path / "svc", gpfskit__management__jobs__workers=0,
                      gpfskit__management__jobs__pending_grace=1, **{
                          k.replace(".", "__"): v for k, v in directives.items()})
    try:
        service.start()
        lost_space, lost_job = _create_space(service, "lost")
        service.stop()
        _lose_the_queue(service, kind, directives)
        # A job queued after the loss keeps its one task: it must not be queued again.
        service.start()
        kept_space, kept_job = _create_space(service, "kept")
        service.stop()
        time.sleep(1.0)  # both past the grace period
        write_directive(service.config_dir, "gpfskit.management.jobs.workers", 2)
        service.start()
        session = service.session()
        for space, job_href in ((lost_space, lost_job), (kept_space, kept_job)):
            job = wait_for_job(session, service.url, job_href)
            assert job["state"] == "COMPLETED" and job["attempts"] == 1, job
            [space_item] = items(session.get(service.url + space))
            assert space_item["status"] == "ACTIVE", space_item
        lost_log = session.get(service.url + lost_job + "/stderr").text
        assert "its queued task was lost (no task of it in the queue after" in lost_log
        assert "queued again" not in session.get(service.url + kept_job + "/stderr").text
        lost_id = lost_job.rstrip("/").rsplit("/", 1)[1]
        recovered = [line for line in service.log().splitlines() if "GK0402W" in line]
        assert len(recovered) == 1 and lost_id in recovered[0], recovered
    finally:
        service.stop()
        if kind == "redis":
            _delete_redis_queue(directives)
