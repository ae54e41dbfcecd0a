"""No job stays RUNNING after a crash: kill ``gpfskit serve`` (and a ``gpfskit worker``)
mid-job with SIGKILL, start again, and the interrupted jobs are retried when their task is
retry-safe, or marked ERRORED with the reason."""

from __future__ import annotations

import time

import pytest

from mgmt_service import BIN, Service, data, wait_for_job

# A site plugin (directive gpfskit.management.plugins): two job types whose task waits for
# a file to appear, so that a test can kill the worker while they run.
PLUGIN = '''
import os, time
from gpfskit.mgmt import resources

def wait_for_release(item_id, job_id):
    print("started", job_id, flush=True)
    release = os.environ["GK_TEST_RELEASE"]
    while not os.path.exists(release):
        time.sleep(0.05)

resources.add_job_type("hold-safe", wait_for_release, retry_safe=True)
resources.add_job_type("hold-unsafe", wait_for_release, retry_safe=False)
'''


@pytest.fixture
def service(tmp_path):
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "holdjobs.py").write_text(PLUGIN)
    svc = Service(tmp_path / "svc", gpfskit__management__plugins=["holdjobs"])
    svc.env["PYTHONPATH"] = str(plugin_dir)
    svc.env["GK_TEST_RELEASE"] = str(tmp_path / "release")
    yield svc
    svc.stop()


def _submit(session, url: str, job_type: str) -> str:
    resp = session.post(url + "/jobs/", json={"type": job_type})
    assert resp.status_code == 202, resp.text
    return resp.json()["collection"]["items"][0]["href"]


def _wait_running(session, url: str, hrefs: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = [data(session.get(url + h).json()["collection"]["items"][0])["state"]
                  for h in hrefs]
        if states == ["RUNNING"] * len(hrefs):
            return
        time.sleep(0.1)
    raise AssertionError(f"jobs not running: {states}")


def _check_recovered(session, url: str, safe: str, unsafe: str) -> None:
    done = wait_for_job(session, url, safe)
    assert done["state"] == "COMPLETED" and done["attempts"] == 2, done
    failed = wait_for_job(session, url, unsafe)
    assert failed["state"] == "ERRORED", failed
    assert failed["reason"].startswith("interrupted: worker ")
    assert "stopped while the job ran" in failed["reason"]


def test_restart_of_the_server_mid_job(service, tmp_path):
    service.start()
    session = service.session()
    safe = _submit(session, service.url, "hold-safe")
    unsafe = _submit(session, service.url, "hold-unsafe")
    _wait_running(session, service.url, [safe, unsafe])
    service.kill()
    (tmp_path / "release").touch()
    service.start()
    session = service.session()
    _check_recovered(session, service.url, safe, unsafe)
    stderr = session.get(service.url + safe.rstrip("/") + "/stderr").text
    assert "retrying" in stderr


def test_killing_a_standalone_worker_mid_job(service, tmp_path):
    import subprocess

    from mgmt_service import write_directive

    write_directive(service.config_dir, "gpfskit.management.jobs.workers", 0)
    service.start()
    session = service.session()

    def worker() -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "gpfskit"), "worker", "--threads", "2"],
                                env=service.env, stdout=subprocess.DEVNULL,
                                stderr=open(tmp_path / "worker.log", "a"))

    first = worker()
    try:
        safe = _submit(session, service.url, "hold-safe")
        unsafe = _submit(session, service.url, "hold-unsafe")
        _wait_running(session, service.url, [safe, unsafe])
    finally:
        first.kill()
        first.wait()
    (tmp_path / "release").touch()
    second = worker()
    try:
        _check_recovered(session, service.url, safe, unsafe)
    finally:
        second.terminate()
        assert second.wait(timeout=30) == 0
