"""System accounts through PAM, as an operator enables them: a real system user and group
(made with useradd/groupadd), a real ``gpfskit serve``, tokens asked for over HTTP."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess

import pytest
import requests

from mgmt_service import Service

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="making system accounts needs root"),
    pytest.mark.skipif(not all(shutil.which(c) for c in ("useradd", "groupadd", "chpasswd")),
                       reason="useradd, groupadd and chpasswd are needed"),
]
pam = pytest.importorskip("pam", reason="python-pam is not installed")


@pytest.fixture(scope="module")
def account():
    """A system group and a member of it with a password; removed afterwards."""
    suffix = secrets.token_hex(3)
    group, user, password = f"gkops{suffix}", f"gkpam{suffix}", secrets.token_urlsafe(12)
    subprocess.run(["groupadd", group], check=True)
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-G", group, user], check=True)
    subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    yield user, password, group
    subprocess.run(["userdel", user], check=False)
    subprocess.run(["groupdel", group], check=False)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = Service(tmp_path_factory.mktemp("pam"), gpfskit__management__pam=True).start()
    yield service
    service.stop()


def _token(service, user, password):
    return requests.post(service.url + "/oauth2/token", data={
        "grant_type": "password", "username": user, "password": password})


def test_a_system_account_gets_a_token_and_the_roles_of_its_group(service, account):
    user, password, group = account
    admin = service.session()
    roles = admin.get(service.url + "/roles/", params={"where": '{"name": "operator"}'}).json()
    operator = roles["collection"]["items"][0]["href"]
    made = admin.post(service.url + "/groups/", json={"name": group, "roles": operator})
    assert made.status_code in (200, 201, 202), made.text

    answer = _token(service, user, password)
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.auth = (answer.json()["access_token"], "")
    assert session.options(service.url + "/spaces/").headers["Allow"] == \
        "HEAD, GET, POST, OPTIONS"
    assert session.options(service.url + "/users/").headers["Allow"] == "OPTIONS"
    users = admin.get(service.url + "/users/", params={"where": f'{{"name": "{user}"}}'})
    data = {d["name"]: d["value"] for d in users.json()["collection"]["items"][0]["data"]}
    assert data["source"] == "pam"


def test_a_wrong_system_password_is_refused_like_any_other(service, account):
    user, _, _ = account
    wrong = _token(service, user, "not-the-password")
    unknown = _token(service, "nosuch-" + user, "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()


def test_without_the_directive_system_accounts_are_refused(tmp_path, account):
    user, password, _ = account
    service = Service(tmp_path).start()
    try:
        assert _token(service, user, password).status_code == 400
    finally:
        service.stop()
