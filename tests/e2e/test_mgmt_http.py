"""HTTP and Collection+JSON conventions, roles and queries, against a real ``gpfskit serve``."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from mgmt_service import Service, data, items

RESOURCES = ["exposers", "datastores", "profiles", "templates", "spaces", "snapshots", "jobs",
             "roles", "groups", "users"]
NOT_CREATABLE = {"datastores"}
NOT_DELETABLE = {"datastores", "jobs"}
OPERATOR_WRITES = {"spaces", "snapshots"}
ADMIN_ONLY = {"users", "roles", "groups"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("http")).start()
    svc.add_user("oper", "operator")
    svc.add_user("view", "viewer")
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def sessions(service):
    return {"admin": service.session("admin"),
            "operator": service.session("oper", "secret-password"),
            "viewer": service.session("view", "secret-password")}


@pytest.fixture
def admin(sessions):
    return sessions["admin"]


def expected_allow(role: str, resource: str, item: bool) -> list[str]:
    if item:
        offered = ["HEAD", "GET", "PATCH"] + ([] if resource in NOT_DELETABLE else ["DELETE"])
    else:
        offered = ["HEAD", "GET"] + ([] if resource in NOT_CREATABLE else ["POST"])
    if role == "admin" or (role == "operator" and resource in OPERATOR_WRITES):
        allowed = offered
    elif resource in ADMIN_ONLY:
        allowed = []
    else:
        allowed = ["HEAD", "GET"]
    return [*allowed, "OPTIONS"]


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_allow_matches_what_is_enforced(service, sessions, role):
    session = sessions[role]
    for resource in RESOURCES:
        for item in (False, True):
            path = f"/{resource}/" + (str(uuid.uuid4()) if item else "")
            allow = expected_allow(role, resource, item)
            resp = session.options(service.url + path)
            assert resp.status_code == 200
            assert resp.headers["Allow"].split(", ") == allow, (role, path)
            for method in ("HEAD", "GET", "POST", "PATCH", "DELETE"):
                body = {"json": {}} if method in ("POST", "PATCH") else {}
                resp = session.request(method, service.url + path, **body)
                if method in allow:
                    assert resp.status_code not in (401, 403, 405), (role, method, path)
                else:
                    assert resp.status_code in (403, 405), (role, method, path, resp.text)


def test_no_token_or_a_bad_one_is_401_with_www_authenticate(service):
    for auth in (None, ("not-a-token", ""), ("", "")):
        resp = requests.get(service.url + "/spaces/", auth=auth)
        assert resp.status_code == 401
        assert "Bearer" in resp.headers["WWW-Authenticate"]
        assert resp.json()["collection"]["error"]["code"] == 401


def test_bearer_token_works_too(service):
    token = service.token()
    resp = requests.get(service.url + "/spaces/", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


def test_revoked_token_stops_working(service):
    token = service.token()
    assert requests.get(service.url + "/spaces/", auth=(token, "")).status_code == 200
    info = requests.get(service.url + "/oauth2/token_info", params={"token": token}).json()
    assert info["active"] and info["username"] == "admin" and info["roles"] == ["admin"]
    assert requests.post(service.url + "/oauth2/revoke", data={"token": token}).status_code == 200
    assert requests.get(service.url + "/spaces/", auth=(token, "")).status_code == 401
    assert requests.get(service.url + "/oauth2/token_info",
                        params={"token": token}).json() == {"active": False}


def test_failed_logins_are_throttled_per_user(service):
    service.add_user("victim", "viewer")
    for _ in range(5):
        resp = requests.post(service.url + "/oauth2/token", data={
            "grant_type": "password", "username": "victim", "password": "guess-guess"})
        assert resp.status_code == 400
    resp = requests.post(service.url + "/oauth2/token", data={
        "grant_type": "password", "username": "victim", "password": "secret-password"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    # Once the delay has passed, the right password works again (and clears the failures
    # of this address, which the other tests log in from).
    time.sleep(int(resp.headers["Retry-After"]))
    assert service.token("victim", "secret-password")


def test_put_is_405(admin, service):
    resp = admin.put(service.url + "/spaces/", json={})
    assert resp.status_code == 405
    assert resp.json()["collection"]["error"]["code"] == 405


def test_form_body_is_400(admin, service):
    resp = admin.post(service.url + "/templates/", data={"name": "x"})
    assert resp.status_code == 400
    assert "form-encoded" in resp.json()["collection"]["error"]["message"]


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"template": {"data": "x"}}', "application/vnd.collection+json"),
    (b'{"name": "x"}', "application/vnd.collection+json"),
    (b"", "application/json"),
])
def test_malformed_bodies_are_400(admin, service, body, content_type):
    resp = admin.post(service.url + "/roles/", data=body, headers={"Content-Type": content_type})
    assert resp.status_code == 400, resp.text
    assert resp.json()["collection"]["error"]["title"] == "Error"


def test_unknown_field_is_422_naming_it(admin, service):
    resp = admin.post(service.url + "/spaces/", json={"name": "ok", "colour": "blue"})
    assert resp.status_code == 422
    details = resp.json()["collection"]["error"]["details"]
    assert {"name": "colour", "message": "unknown field"} in details


@pytest.mark.parametrize("name", ["a b", "a/b", "..", "a'b", "$(rm -rf)", "x;y", "", "é"])
def test_bad_names_are_refused_and_nothing_is_stored(admin, service, name):
    before = admin.head(service.url + "/roles/").headers["X-Total-Count"]
    resp = admin.post(service.url + "/roles/", json={"name": name, "permissions": "{}"})
    assert resp.status_code == 422
    assert resp.json()["collection"]["error"]["details"][0]["name"] == "name"
    assert admin.head(service.url + "/roles/").headers["X-Total-Count"] == before


def test_store_only_resources_are_created_at_once(admin, service):
    template = {"template": {"data": [
        {"name": "name", "value": "auditor"},
        {"name": "permissions", "value": json.dumps({"*": ["GET", "HEAD"]}),
         "prompt": "ignored"}]}}
    resp = admin.post(service.url + "/roles/", json=template,
                      headers={"Content-Type": "application/vnd.collection+json"})
    assert resp.status_code == 201, resp.text
    role = data(resp.json()["collection"]["items"][0])
    assert role["status"] == "ACTIVE"
    assert admin.get(resp.headers["Location"]).status_code == 200
    again = admin.post(service.url + "/roles/", json={"name": "auditor", "permissions": "{}"})
    assert again.status_code == 422
    assert "exists already" in again.json()["collection"]["error"]["details"][0]["message"]

    # A user with that role, made over the API, can read but not write.
    resp = admin.post(service.url + "/users/", json={
        "name": "audit1", "password": "long-enough-pw", "roles": "auditor"})
    assert resp.status_code == 201, resp.text
    user = resp.json()["collection"]["items"][0]
    assert "password" not in data(user) and "password_hash" not in data(user)
    assert any(link["name"] == "roles" for link in user["links"])
    auditor = service.session("audit1", "long-enough-pw")
    assert auditor.options(service.url + "/users/").headers["Allow"] == "HEAD, GET, OPTIONS"
    assert auditor.post(service.url + "/roles/", json={}).status_code == 403
    # Role assignments change over the API too.
    changed = admin.patch(service.url + user["href"], json={"roles": "viewer,auditor"})
    assert changed.status_code == 200, changed.text
    roles_link = next(link for link in changed.json()["collection"]["items"][0]["links"]
                      if link["name"] == "roles")
    assert admin.get(service.url + roles_link["href"]).headers["X-Total-Count"] == "2"
    assert admin.delete(service.url + user["href"]).status_code == 204
    assert auditor.get(service.url + "/spaces/").status_code == 401


def test_head_counts(admin, service):
    resp = admin.head(service.url + "/profiles/", params={"where": '{"filesystem": "mmfs1"}'})
    assert resp.status_code == 200 and resp.headers["X-Total-Count"] == "3" and not resp.content


def test_collection_without_trailing_slash_answers_get(admin, service):
    resp = admin.get(service.url + '/profiles?where={"name":"mmfs1-sas1"}')
    assert resp.status_code == 200 and resp.headers["X-Total-Count"] == "1"


def test_unknown_item_is_404(admin, service):
    resp = admin.get(service.url + f"/spaces/{uuid.uuid4()}")
    assert resp.status_code == 404
    assert resp.json()["collection"]["error"]["code"] == 404


@pytest.mark.parametrize("params,why", [
    ({"where": '{"colour": "x"}'}, "colour"),
    ({"where": "{bad json"}, "where"),
    ({"where": "__import__('os')"}, "where"),
    ({"where": '{"password_hash": "x"}'}, "password_hash"),
    ({"sort": "nosuchfield"}, "nosuchfield"),
    ({"max_results": "many"}, "max_results"),
    ({"page": "0"}, "page"),
    ({"projection": "[1]"}, "projection"),
])
def test_bad_queries_are_400_saying_why(admin, service, params, why):
    resource = "/users/" if "password_hash" in params.get("where", "") else "/profiles/"
    resp = admin.get(service.url + resource, params=params)
    assert resp.status_code == 400, resp.text
    assert why in resp.json()["collection"]["error"]["message"]


def test_queries_sort_project_and_page(admin, service):
    url = service.url + "/profiles/"
    names = [p["name"] for p in items(admin.get(url, params={"sort": "-name"}))]
    assert names == sorted(names, reverse=True)
    resp = admin.get(url, params={"sort": "name", "max_results": "1", "page": "2"})
    assert [p["name"] for p in items(resp)] == [sorted(names)[1]]
    assert resp.headers["X-Total-Count"] == "4"
    rels = {link["rel"] for link in resp.json()["collection"]["links"]}
    assert rels == {"prev", "next"}
    only = items(admin.get(url, params={"projection": '{"status": 1}'}))
    assert all(set(p) <= {"id", "status"} and "status" in p for p in only)
    python_style = items(admin.get(url, params={
        "where": 'filesystem == "mmfs1" and pool in ["sas1", "sata1"]'}))
    assert sorted(p["name"] for p in python_style) == ["mmfs1-sas1", "mmfs1-sata1"]
    regex = items(admin.get(url, params={"where": '{"name": {"$regex": "^mmfs2-"}}'}))
    assert [p["name"] for p in regex] == ["mmfs2-system"]
    dotted = items(admin.get(url, params={"where": '{"datastore.pool": "sas1"}'}))
    assert [p["name"] for p in dotted] == ["mmfs1-sas1"]


def test_populate_job_runs_and_logs(admin, service):
    resp = admin.post(service.url + "/jobs/", json={"type": "populate"})
    assert resp.status_code == 202
    location = resp.headers["Location"]
    assert location.endswith('?projection={"status":1}')
    from mgmt_service import wait_for_job

    job_href = resp.json()["collection"]["items"][0]["href"]
    job = wait_for_job(admin, service.url, job_href)
    assert job["state"] == "COMPLETED", job
    assert job["requester"] == "admin" and job["type"] == "populate"
    assert job["started"] and job["finished"]
    links = {link["name"].lower(): link["href"]
             for link in admin.get(service.url + job_href).json()["collection"]["items"][0]
             ["links"]}
    stderr = admin.get(service.url + links["stderr"])
    assert stderr.headers["Content-Type"].startswith("text/plain")
    assert "[GK0101I] Populated the store" in stderr.text
    assert admin.get(service.url + links["stdout"]).text == ""


def test_unknown_job_type_is_422(admin, service):
    resp = admin.post(service.url + "/jobs/", json={"type": "explode"})
    assert resp.status_code == 422
    assert "populate" in resp.json()["collection"]["error"]["details"][0]["message"]


def test_operator_may_not_run_a_populate(sessions, service):
    resp = sessions["operator"].post(service.url + "/jobs/", json={"type": "populate"})
    assert resp.status_code == 403


def test_openapi_and_docs(service):
    schema = requests.get(service.url + "/openapi.json").json()
    assert "/spaces/" in schema["paths"] and "/oauth2/token" in schema["paths"]
    assert requests.get(service.url + "/docs").status_code == 200
