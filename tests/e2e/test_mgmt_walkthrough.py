"""The walkthrough seed's requests, as written, against a real ``gpfskit serve`` on loopback
(up to the creation of templates and spaces, which part 2 adds)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from mgmt_service import Service, cli, data, free_port, items

SPACE_TEMPLATE = {"data": [
    {"prompt": "space name", "name": "name", "value": ""},
    {"prompt": "path of the space relative to its exposers", "name": "relativepath",
     "value": ""},
    {"prompt": "templates applied to the space", "name": "templates", "value": ""},
    {"prompt": "exposers providing access to the space", "name": "exposers", "value": ""},
    {"prompt": "profile applied to the space", "name": "profile", "value": ""},
    {"prompt": "hard limit on the size of the space in blocks", "name": "size", "value": ""},
]}
TEMPLATES_TEMPLATE = {"data": [
    {"prompt": "template name", "name": "name", "value": ""},
    {"prompt": "specific type of the template", "name": "type", "value": ""},
    {"prompt": "path to the template", "name": "template_location", "value": ""},
]}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("walkthrough"),
                  gpfskit__management__port=free_port())
    result = cli(svc.env, "adminctl", "policy", "install", "default")
    assert result.returncode == 0, result.stderr
    svc.start()
    svc.add_user("myuser", "admin", "mypassword")
    yield svc
    svc.stop()


@pytest.fixture
def walkthrough_config(service, monkeypatch):
    """The test reads the directives as the walkthrough's script does."""
    monkeypatch.setenv("GPFSKIT_CONFIG", str(service.config_dir))


@pytest.fixture
def session(service, walkthrough_config):
    from arcapix.config import config

    authserver = config["arcapix.auth.server.url"]
    payload = {"grant_type": "password", "username": "myuser", "password": "mypassword"}
    resp = requests.post(authserver + "/oauth2/token", data=payload)
    assert resp.status_code == 200
    token = resp.json()["access_token"]
    session = requests.Session()
    session.auth = (token, "")
    return session


def test_first_start_shows_the_admin_password_once_and_stores_its_hash(service):
    assert service.admin_password and len(service.admin_password) >= 16
    assert "curl -s -u \"$TOKEN:\" " + service.url + "/spaces/" in service.banner
    assert service.admin_password.encode() not in (service.base / "mgmt.db").read_bytes()
    assert service.session("admin").get(service.url + "/spaces/").status_code == 200


def test_token_server_url_is_the_service_itself(service, walkthrough_config):
    from arcapix.config import config

    assert config["arcapix.auth.server.url"] == service.url
    assert config["arcapix.management.server.url"] == service.url


def test_token_answer(service, walkthrough_config):
    from arcapix.config import config

    resp = requests.post(config["arcapix.auth.server.url"] + "/oauth2/token", data={
        "grant_type": "password", "username": "myuser", "password": "mypassword"})
    body = resp.json()
    assert resp.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert len(body["access_token"]) >= 40


@pytest.mark.parametrize("user,password", [("myuser", "wrong"), ("nobody", "mypassword")])
def test_wrong_password_or_user_tells_nothing_about_which(service, user, password):
    resp = requests.post(service.url + "/oauth2/token", data={
        "grant_type": "password", "username": user, "password": password})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant",
                           "error_description": "wrong user name or password"}


def test_options_lists_what_the_roles_allow(service, session):
    resp = session.options(service.url + "/spaces/")
    assert resp.headers["Allow"] == "HEAD, GET, POST, OPTIONS"


def test_spaces_template(service, session):
    resp = session.get(service.url + "/spaces/")
    assert resp.json()["collection"]["template"] == SPACE_TEMPLATE


def test_templates_template(service, session):
    resp = session.get(service.url + "/templates/")
    assert resp.json()["collection"]["template"] == TEMPLATES_TEMPLATE


def test_sleepy_snake_is_refused(service, session):
    before = session.head(service.url + "/spaces/").headers["X-Total-Count"]
    resp = session.post(service.url + "/spaces/", json={"name": "sleepy snake"})
    assert resp.status_code == 422
    error = resp.json()["collection"]["error"]
    assert {k: error[k] for k in ("message", "code", "title")} == {
        "message": "Insertion failure: 1 document(s) contain(s) error(s)", "code": 422,
        "title": "Error"}
    name = next(d for d in error["details"] if d["name"] == "name")
    assert "letters, digits, hyphens or underscores" in name["message"]
    assert session.head(service.url + "/spaces/").headers["X-Total-Count"] == before


def test_profile_search_query_and_total_count(service, session):
    resp = session.get(service.url + "/profiles/")
    search = resp.json()["collection"]["queries"][0]
    assert search == {
        "prompt": "Search by Name", "href": '/profiles?where={"name":"{name}"}',
        "data": [{"prompt": "profile name", "name": "name", "value": ""}],
        "rel": "search", "encoding": "uri-template"}
    # Expand the uri-template as a client does.
    href = search["href"].replace("{name}", "mmfs1-sas1")
    expanded = session.get(service.url + href)
    assert expanded.headers["X-Total-Count"] == "1"

    params = {"where": '{"name": "mmfs1-sas1"}'}
    resp = session.get(service.url + "/profiles/", params=params)
    assert resp.headers["X-Total-Count"] == "1"
    collection = resp.json()["collection"]
    assert collection["version"] == "1.0"
    assert collection["href"] == '/profiles/?where={"name": "mmfs1-sas1"}'
    item = collection["items"][0]
    profile = data(item)
    assert profile["status"] == "ACTIVE" and profile["name"] == "mmfs1-sas1"
    assert item["href"] == f"/profiles/{profile['id']}"
    prompts = {d["name"]: d["prompt"] for d in item["data"]}
    assert prompts["status"] == "current status of the item"
    assert prompts["id"] == "unique identifier for the item"
    assert prompts["name"] == "profile name"
    assert {"template", "queries", "links"} <= set(collection)


def test_exposer_query(service, session):
    params = {"where": '{"type": "gpfsnative", "name": "mmfs1"}'}
    resp = session.get(service.url + "/exposers/", params=params)
    assert resp.headers["X-Total-Count"] == "1"
    item = resp.json()["collection"]["items"][0]
    exposer = data(item)
    assert exposer["type"] == "gpfsnative" and exposer["status"] == "ACTIVE"
    assert exposer["mountpoint"] == str(service.root / "gpfs" / "mmfs1")
    prompts = {d["name"]: d["prompt"] for d in item["data"]}
    assert prompts["type"] == "specific type of the exposer"
    assert prompts["mountpoint"] == "path at which the exposer is mounted"
    assert prompts["name"] == "exposer name"
    assert item["href"] == f"/exposers/{exposer['id']}"


def test_populated_objects(service, session):
    url = service.url
    assert sorted(e["name"] for e in items(session.get(url + "/exposers/"))) == ["mmfs1", "mmfs2"]
    stores = items(session.get(url + "/datastores/", params={"where": '{"filesystem": "mmfs1"}'}))
    assert {d["pool"]: d["capacity"] for d in stores} == {
        "system": 200 * 2**30, "sas1": 2048 * 2**30, "sata1": 8192 * 2**30}
    assert all(d["type"] == "gpfspool" for d in stores)
    assert sorted(p["name"] for p in items(session.get(url + "/profiles/"))) == [
        "mmfs1-sas1", "mmfs1-sata1", "mmfs1-system", "mmfs2-system"]


def test_items_link_their_jobs(service, session):
    resp = session.get(service.url + "/profiles/", params={"where": '{"name": "mmfs1-sas1"}'})
    item = resp.json()["collection"]["items"][0]
    jobs = next(link for link in item["links"] if link["name"] == "Jobs")
    where = json.loads(urlsplit(jobs["href"]).query.removeprefix("where="))
    assert where == {"resource_type": "profiles", "resource_id": data(item)["id"]}
    assert jobs["rel"] == "jobs" and jobs["render"] == "link"
    assert session.get(service.url + jobs["href"]).headers["X-Total-Count"] == "0"


def test_placement_rules_installed_before_the_default(service):
    result = cli(service.env, "gpfskit", "mm", "mmlspolicy", "mmfs1", "-L")
    text = result.stdout
    assert "RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'" in text
    assert text.rstrip().endswith("RULE 'default' SET POOL 'sata1'")
    again = cli(service.env, "adminctl", "policy", "install", "default")
    assert again.returncode == 0
    assert "[GK0111I] Filesystem mmfs1 already has its default placement rules" in again.stdout
    assert cli(service.env, "gpfskit", "mm", "mmlspolicy", "mmfs1", "-L").stdout == text
