"""The whole walkthrough seed as written, templates, space and snapshot included, against a
real ``gpfskit serve`` on loopback, checked with the emulated commands afterwards; then the
failure paths and dry runs over REST."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from mgmt_service import (
    Service,
    cj_body,
    cli,
    data,
    find,
    free_port,
    items,
    mm,
    wait_for_job,
    wait_status,
)

CJ = {"Content-Type": "application/vnd.collection+json"}
LAYOUT = ["flame", "houdini", "maya", "mudbox", "nuke", "published", "rendering"]


def get_status(collection, item):
    for entry in collection["collection"]["items"][item]["data"]:
        if entry["name"] == "status":
            return entry["value"]
    raise KeyError("Status field not found")


def get_link_href(collection, item, name):
    for link in collection["collection"]["items"][item]["links"]:
        if link["name"] == name:
            return link["href"]
    raise KeyError(name)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("provisioning"),
                  gpfskit__management__port=free_port())
    assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
    svc.start()
    svc.add_user("myuser", "admin", "mypassword")
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def mount(service) -> Path:
    return service.root / "gpfs" / "mmfs1"


def make_model(service: Service, mount: Path) -> Path:
    """The walkthrough's model: ``assets`` is a dependent fileset."""
    model = mount / "project_template"
    model.mkdir()
    for directory in LAYOUT:
        (model / directory).mkdir()
    mm(service, "mmcrfileset", "mmfs1", "model-assets")
    mm(service, "mmlinkfileset", "mmfs1", "model-assets", "-J", str(model / "assets"))
    (model / "assets" / "models").mkdir()
    (model / "assets" / "rigs").mkdir()
    os.chmod(model / "published", 0o750)
    return model


@pytest.fixture(scope="module")
def model(service, mount) -> Path:
    return make_model(service, mount)


def walkthrough_session(service: Service, monkeypatch, verify: bool = True
                        ) -> requests.Session:
    """The token and session, as the walkthrough gets them (``verify=False`` for a
    self-signed certificate)."""
    from arcapix.config import config

    monkeypatch.setenv("GPFSKIT_CONFIG", str(service.config_dir))
    authserver = config["arcapix.auth.server.url"]
    payload = {"grant_type": "password", "username": "myuser", "password": "mypassword"}
    resp = requests.post(authserver + "/oauth2/token", data=payload, verify=verify)
    assert resp.status_code == 200
    session = requests.Session()
    session.auth = (resp.json()["access_token"], "")
    session.verify = verify
    return session


@pytest.fixture
def session(service, monkeypatch):
    return walkthrough_session(service, monkeypatch)


def tree(root: Path) -> list[tuple[str, str]]:
    return sorted((str(p.relative_to(root)), oct(p.stat().st_mode)) for p in root.rglob("*")
                  if ".snapshots" not in p.parts)


def test_the_walkthrough_as_written(service, session, model, mount):
    walkthrough(service, session, model, mount)


def walkthrough(service: Service, session: requests.Session, model: Path, mount: Path
                ) -> None:
    """Every request of the seed, in order, then its checks on the cluster."""
    url = service.url
    assert "POST" in session.options(url + "/spaces/").headers["Allow"]
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    exposer = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})

    template_data = {"template": {"data": [
        {"name": "name", "value": "project_template"},
        {"name": "type", "value": "filesystemtemplate"},
        {"name": "template_location", "value": "/" + str(model).lstrip("/")}]}}
    resp = session.post(url + "/templates/", json=template_data, headers=CJ)
    assert resp.status_code == 202, resp.text
    assert resp.headers["Location"].endswith('?projection={"status":1}')
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    resp = session.get(resp.headers["Location"])
    template = resp.json()["collection"]["items"][0]["href"]
    resp = session.get(url + template)
    assert data(resp.json()["collection"]["items"][0])["template_location"] is None
    jobs = session.get(url + get_link_href(resp.json(), 0, "Jobs"))
    stderr = session.get(url + get_link_href(jobs.json(), 0, "stderr"))
    assert stderr.headers["Content-Type"].startswith("text/plain")
    assert "captured template project_template" in stderr.text
    expected = tree(model)

    space_data = {"template": {"data": [
        {"name": "name", "value": "sleepy-snake"},
        {"name": "relativepath", "value": "projects/sleepy_snake"},
        {"name": "exposers", "value": exposer},
        {"name": "profile", "value": profile},
        {"name": "templates", "value": template},
        {"name": "size", "value": 4 * 1024 * 1024 * 1024}]}}
    resp = session.post(url + "/spaces/", json=space_data, headers=CJ)
    assert resp.status_code == 202, resp.text
    checkurl = resp.headers["Location"]
    for _ in range(10):
        time.sleep(1)
        status = get_status(session.get(checkurl).json(), 0)
        if status == "ACTIVE":
            break
    else:
        raise AssertionError(f"Space didn't become active after 10s - got status {status}")

    [space] = items(session.get(url + "/spaces/", params={"where": '{"name": "sleepy-snake"}'}))
    assert space["relativepath"] == "projects/sleepy_snake" and space["size"] == 4294967296

    listing = mm(service, "mmlsfileset", "mmfs1")
    space_dir = mount / "projects" / "sleepy_snake"
    assert f"sas1-sleepy-snake        Linked    {space_dir}" in listing
    dependent = next(line.split() for line in listing.splitlines()
                     if line.startswith("sata1-sleepy-snake-"))
    assert dependent[1:] == ["Linked", str(space_dir / "assets")]
    assert len(dependent[0]) == len("sata1-sleepy-snake-8b234c97")
    assert tree(space_dir) == expected
    quota = mm(service, "mmlsquota", "-j", "sas1-sleepy-snake", "mmfs1").splitlines()[-1]
    assert quota.split()[3:5] == ["3774873", "4194304"]
    policy = mm(service, "mmlspolicy", "mmfs1", "-L")
    assert "RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'" in policy
    assert policy.rstrip().endswith("RULE 'default' SET POOL 'sata1'")

    # The exercise: a snapshot of the space.
    space_href = find(session, url, "spaces", {"name": "sleepy-snake"})
    snapshot_data = {"template": {"data": [
        {"name": "name", "value": "snake-snap"},
        {"name": "type", "value": "gpfsspacesnapshot"},
        {"name": "space", "value": space_href}]}}
    resp = session.post(url + "/snapshots/", json=snapshot_data, headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    [snap] = items(session.get(url + "/snapshots/",
                               params={"where": '{"space.name": "sleepy-snake"}'}))
    assert snap["path"] == str(space_dir / ".snapshots" / "snake-snap")
    assert (space_dir / ".snapshots" / "snake-snap" / "assets").is_dir()
    assert "snake-snap" in mm(service, "mmlssnapshot", "mmfs1")

    # A space with snapshots cannot be deleted; PATCH of size changes the quota.
    refused = session.delete(url + space_href)
    assert refused.status_code == 409 and "snapshots" in refused.text
    resp = session.patch(url + space_href, json={"size": 8 * 1024 ** 3})
    assert resp.status_code == 202, resp.text
    assert wait_status(session, url + space_href) == "ACTIVE"
    quota = mm(service, "mmlsquota", "-j", "sas1-sleepy-snake", "mmfs1").splitlines()[-1]
    assert quota.split()[4] == str(8 * 1024 ** 2)
    fixed = session.patch(url + space_href, json={"relativepath": "elsewhere"})
    assert fixed.status_code == 422 and "cannot be changed" in fixed.text


@pytest.fixture(scope="module")
def tls_service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("provisioning-tls"),
                  gpfskit__management__port=free_port())
    assert cli(svc.env, "adminctl", "tls", "selfsigned").returncode == 0
    assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
    svc.start()
    svc.add_user("myuser", "admin", "mypassword")
    yield svc
    svc.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_walkthrough_over_https(tls_service, monkeypatch):
    assert tls_service.url.startswith("https://")
    # requests lets these variables override a session's verify=False (psf/requests#3829)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    mount = tls_service.root / "gpfs" / "mmfs1"
    session = walkthrough_session(tls_service, monkeypatch, verify=False)
    walkthrough(tls_service, session, make_model(tls_service, mount), mount)


def test_validation_names_the_field(service, session, mount):
    url = service.url
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    exposer = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})
    base = {"name": "viper", "relativepath": "projects/viper", "exposers": exposer,
            "profile": profile, "size": 1024 ** 3}
    for change, field in [({"name": "sleepy snake"}, "name"),
                          ({"relativepath": "projects/../etc"}, "relativepath"),
                          ({"relativepath": "/abs"}, "relativepath"),
                          ({"size": 0}, "size"), ({"size": "lots"}, "size"),
                          ({"profile": "/profiles/nope"}, "profile"),
                          ({"exposers": profile}, "exposers")]:
        resp = session.post(url + "/spaces/", json=cj_body(**{**base, **change}), headers=CJ)
        assert resp.status_code == 422, (change, resp.text)
        assert field in resp.text, (change, resp.text)
    other = find(session, url, "profiles", {"name": "mmfs2-system"})
    resp = session.post(url + "/spaces/", json=cj_body(**{**base, "profile": other}),
                        headers=CJ)
    assert resp.status_code == 422 and "mmfs2" in resp.text
    resp = session.post(url + "/templates/", json=cj_body(
        name="ghost", type="filesystemtemplate", template_location=str(mount / "nothing")),
        headers=CJ)
    assert resp.status_code == 422 and "template_location" in resp.text
    assert items(session.get(url + "/templates/", params={"where": '{"name": "ghost"}'})) == []


def test_dry_run_answers_the_commands_and_changes_nothing(service, session):
    url = service.url
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    exposer = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})
    before = mm(service, "mmlsfileset", "mmfs1", "-Y")
    resp = session.post(url + "/spaces/?dry_run=true", json=cj_body(
        name="cobra", relativepath="projects/cobra", exposers=exposer, profile=profile,
        size=1024 ** 3), headers=CJ)
    assert resp.status_code == 200, resp.text
    planned = data(resp.json()["collection"]["items"][0])
    assert planned["name"] == "cobra"
    commands = planned["commands"].splitlines()
    assert [c.split()[0] for c in commands] == ["mmcrfileset", "mmlinkfileset", "mmsetquota"]
    assert mm(service, "mmlsfileset", "mmfs1", "-Y") == before
    assert items(session.get(url + "/spaces/", params={"where": '{"name": "cobra"}'})) == []


def test_a_failing_job_is_rolled_back_and_errored_with_the_reason(service, session, mount):
    """Two templates holding the same file, with the walkthrough's: whichever of the two
    comes second collides halfway, after the fileset, its link, its quota and the first
    layouts are in place."""
    url = service.url
    hrefs = []
    for name in ("plain", "plain-again"):
        model = mount / f"{name}_model"
        (model / "assets").mkdir(parents=True)
        (model / "assets" / "notes.txt").write_text(name)
        resp = session.post(url + "/templates/", json=cj_body(
            name=name, type="filesystemtemplate", template_location=str(model)), headers=CJ)
        assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
        hrefs.append(resp.json()["collection"]["items"][0]["href"])
    walk = find(session, url, "templates", {"name": "project_template"})
    before = mm(service, "mmlsfileset", "mmfs1", "-Y")
    resp = session.post(url + "/spaces/", json=cj_body(
        name="adder", relativepath="failing/adder",
        exposers=find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"}),
        profile=find(session, url, "profiles", {"name": "mmfs1-sas1"}),
        templates=",".join([walk, *hrefs]), size=1024 ** 3), headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ERRORED"
    item = session.get(resp.headers["Location"].split("?")[0]).json()
    assert "already exists" in data(item["collection"]["items"][0])["status_message"]
    jobs = session.get(url + get_link_href(item, 0, "Jobs"))
    stderr = session.get(url + get_link_href(jobs.json(), 0, "stderr")).text
    assert "undoing create fileset" in stderr and "already exists" in stderr
    assert mm(service, "mmlsfileset", "mmfs1", "-Y") == before
    assert not (mount / "failing").exists()


def test_two_identical_posts_at_once_give_one_space(service, session):
    url = service.url
    body = cj_body(name="twin", relativepath="projects/twin",
                   exposers=find(session, url, "exposers", {"type": "gpfsnative",
                                                            "name": "mmfs1"}),
                   profile=find(session, url, "profiles", {"name": "mmfs1-sas1"}),
                   size=1024 ** 3)
    answers = []
    barrier = threading.Barrier(2)

    def post():
        barrier.wait()
        answers.append(session.post(url + "/spaces/", json=body, headers=CJ))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [202, 422], [r.text for r in answers]
    accepted = next(r for r in answers if r.status_code == 202)
    assert wait_status(session, accepted.headers["Location"]) == "ACTIVE"
    assert len(items(session.get(url + "/spaces/", params={"where": '{"name": "twin"}'}))) == 1
    assert mm(service, "mmlsfileset", "mmfs1").count("sas1-twin ") == 1


def test_delete_a_space_holding_data_needs_force(service, session, mount):
    url = service.url
    resp = session.post(url + "/spaces/", json=cj_body(
        name="mamba", relativepath="projects/mamba",
        exposers=find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"}),
        profile=find(session, url, "profiles", {"name": "mmfs1-sas1"}), size=1024 ** 3),
        headers=CJ)
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    href = resp.json()["collection"]["items"][0]["href"]
    (mount / "projects" / "mamba" / "data.bin").write_bytes(b"1234")
    refused = session.delete(url + href)
    assert refused.status_code == 409 and "holds data" in refused.text
    planned = session.delete(url + href + "?force=true&dry_run=true")
    assert planned.status_code == 200, planned.text
    commands = data(planned.json()["collection"]["items"][0])["commands"].splitlines()
    assert commands == ["mmunlinkfileset mmfs1 sas1-mamba -f",
                        "mmdelfileset mmfs1 sas1-mamba -f"]
    resp = session.delete(url + href + "?force=true")
    assert resp.status_code == 202
    job = wait_for_job(session, url, resp.headers["Location"].removeprefix(url))
    assert job["state"] == "COMPLETED", job
    assert session.get(url + href).status_code == 404
    assert "sas1-mamba" not in mm(service, "mmlsfileset", "mmfs1")


def test_profiles_and_exposers_over_rest(service, session, mount):
    url = service.url
    rules = {"ilm_steps": [{"source": "sas1", "target": "sata1", "older_than_days": 30,
                            "threshold": [80, 60]}],
             "placement_controls": [{"pool": "system", "name_patterns": ["*.db"]}]}
    resp = session.post(url + "/profiles/", json=cj_body(
        name="media", filesystem="mmfs1", pool="sas1", rules=json.dumps(rules)), headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    policy = mm(service, "mmlspolicy", "mmfs1", "-L")
    assert "RULE 'media-ilm-1' MIGRATE FROM POOL 'sas1' THRESHOLD(80, 60)" in policy
    assert policy.rstrip().endswith("RULE 'default' SET POOL 'sata1'")
    bad = session.post(url + "/profiles/", json=cj_body(
        name="bad", filesystem="mmfs1", pool="sas1",
        rules=json.dumps({"ilm_steps": [{"source": "sas1", "target": "nowhere",
                                         "older_than_days": 3}]})), headers=CJ)
    assert bad.status_code == 422 and "rules.ilm_steps[0].target" in bad.text

    share_dir = mount / "projects" / "sleepy_snake"
    resp = session.post(url + "/exposers/", json=cj_body(
        name="snake-nfs", type="nfs", path=str(share_dir),
        extras=json.dumps({"clients": [{"client": "10.0.0.0/8", "Access_Type": "RW"}]})),
        headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    nfs_id = data(resp.json()["collection"]["items"][0])["id"]
    fragment = service.root / "etc" / "ganesha" / "exports.d" / f"pixmanaged.{nfs_id}.conf"
    assert f'Path = "{share_dir}";' in fragment.read_text()
    assert str(share_dir) in mm(service, "mmnfs", "export", "list")
    bad = session.post(url + "/exposers/", json=cj_body(
        name="x", type="nfs", path=str(share_dir),
        extras=json.dumps({"clients": [{"client": "*", "Access_Type": "EVERYTHING"}]})),
        headers=CJ)
    assert bad.status_code == 422 and "extras.clients[0]" in bad.text
    resp = session.delete(url + f"/exposers/{nfs_id}")
    assert resp.status_code == 202
    assert wait_for_job(session, url, resp.headers["Location"].removeprefix(url))[
        "state"] == "COMPLETED"
    assert not fragment.exists()
    assert str(share_dir) not in mm(service, "mmnfs", "export", "list")


def test_file_system_snapshots_over_rest(service, session, mount):
    url = service.url
    exposer = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})
    resp = session.post(url + "/snapshots/", json=cj_body(
        name="nightly", type="gpfsglobalsnapshot", exposer=exposer), headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    [snap] = items(session.get(url + "/snapshots/",
                               params={"where": '{"exposer.filesystem": "mmfs1"}'}))
    assert snap["name"] == "nightly" and snap["path"] == str(mount / ".snapshots" / "nightly")
    assert "nightly" in mm(service, "mmlssnapshot", "mmfs1")
    missing = session.post(url + "/snapshots/", json=cj_body(
        name="orphan", type="gpfsglobalsnapshot"), headers=CJ)
    assert missing.status_code == 422 and "exposer" in missing.text
    resp = session.delete(url + f"/snapshots/{snap['id']}")
    assert resp.status_code == 202
    assert wait_for_job(session, url, resp.headers["Location"].removeprefix(url))[
        "state"] == "COMPLETED"
    assert "nightly" not in mm(service, "mmlssnapshot", "mmfs1")


def test_a_worker_killed_mid_space_ends_active_after_restart(service, monkeypatch):
    """SIGKILL of the server (its workers inside) while a space's template is being laid
    out: on restart the job's undo log rolls the first attempt back and the space is made
    afresh, so it ends ACTIVE with one fileset and the whole layout. (Last in the module:
    it restarts the module's server.)"""
    svc = service
    session = walkthrough_session(svc, monkeypatch)
    url, mount = svc.url, svc.root / "gpfs" / "mmfs1"
    model = mount / "big_model"
    for d in range(30):
        (model / f"d{d}").mkdir(parents=True)
        for f in range(100):
            (model / f"d{d}" / f"f{f}").write_text("x")
    resp = session.post(url + "/templates/", json=cj_body(
        name="big", type="filesystemtemplate", template_location=str(model)), headers=CJ)
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE"
    template = resp.json()["collection"]["items"][0]["href"]
    resp = session.post(url + "/spaces/", json=cj_body(
        name="crash", relativepath="projects/crash", templates=template,
        exposers=find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"}),
        profile=find(session, url, "profiles", {"name": "mmfs1-sas1"}), size=1024 ** 3),
        headers=CJ)
    space_url = resp.headers["Location"]
    space_id = data(resp.json()["collection"]["items"][0])["id"]
    deadline = time.monotonic() + 30
    while True:
        [job] = items(session.get(url + "/jobs/", params={
            "where": json.dumps({"resource_id": space_id})}))
        # Each step is recorded before it runs: a link step means the fileset is made.
        steps = [e["action"] for e in json.loads(job["extras"]).get("undo", [])]
        if "link_fileset" in steps:
            break
        assert time.monotonic() < deadline, f"the space's job never reached its link: {job}"
        time.sleep(0.02)
    svc.kill()
    assert "sas1-crash" in mm(svc, "mmlsfileset", "mmfs1")
    svc.start()
    session = walkthrough_session(svc, monkeypatch)
    assert wait_status(session, space_url, timeout=60) == "ACTIVE"
    listing = mm(svc, "mmlsfileset", "mmfs1")
    assert listing.count("sas1-crash ") == 1
    files = list((mount / "projects" / "crash").rglob("f*"))
    assert len(files) == 3000
    [job] = items(session.get(url + "/jobs/", params={
        "where": json.dumps({"resource_id": space_id})}))
    assert job["attempts"] == 2 and json.loads(job["extras"])["undo"] == []

