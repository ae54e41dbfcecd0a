"""``adminctl`` for the management service, as an operator runs it: real processes, the
store on disk, coded messages and exit codes; and ``gpfskit serve`` over https."""

from __future__ import annotations

import sqlite3

import pytest
import requests

from mgmt_service import Service, cli, cluster_env


def test_users_roles_and_tokens(tmp_path):
    env = cluster_env(tmp_path)
    add = cli(env, "adminctl", "users", "add", "alice", "--role", "operator",
              "--password-stdin", stdin="alice-password\n")
    assert add.returncode == 0, add.stderr
    assert add.stdout.strip() == "[GK0201I] Created user alice with role(s) operator"
    again = cli(env, "adminctl", "users", "add", "alice", "--role", "viewer",
                "--password-stdin", stdin="alice-password\n")
    assert again.returncode == 1 and "[GK0205E] User alice exists already" in again.stderr
    unknown = cli(env, "adminctl", "users", "add", "bob", "--role", "wizard",
                  "--password-stdin", stdin="bob-password\n")
    assert unknown.returncode == 1 and "[GK0206E] No role wizard" in unknown.stderr
    bad = cli(env, "adminctl", "users", "add", "bad name", "--role", "viewer",
              "--password-stdin", stdin="whatever-pw\n")
    assert bad.returncode == 1 and "invalid user name" in bad.stderr
    short = cli(env, "adminctl", "users", "add", "carol", "--role", "viewer",
                "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr

    listing = cli(env, "adminctl", "users", "list")
    assert "alice" in listing.stdout and "operator" in listing.stdout
    assert "bob" not in listing.stdout and "carol" not in listing.stdout
    roles = cli(env, "adminctl", "roles", "list")
    assert roles.returncode == 0
    for role in ("admin", "operator", "viewer"):
        assert role in roles.stdout

    db = sqlite3.connect(tmp_path / "mgmt.db")
    (old_hash,) = db.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()
    assert old_hash.startswith("$argon2") and "alice-password" not in old_hash
    passwd = cli(env, "adminctl", "users", "passwd", "alice", "--password-stdin",
                 stdin="new-alice-password\n")
    assert passwd.returncode == 0 and "[GK0203I]" in passwd.stdout
    (new_hash,) = db.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()
    assert new_hash != old_hash

    revoke = cli(env, "adminctl", "tokens", "revoke", "--user", "alice")
    assert revoke.returncode == 0 and "[GK0210I] Revoked 0 token(s)" in revoke.stdout
    usage = cli(env, "adminctl", "tokens", "revoke")
    assert usage.returncode == 2

    remove = cli(env, "adminctl", "users", "remove", "alice")
    assert remove.returncode == 0 and "[GK0202I] Removed user alice" in remove.stdout
    missing = cli(env, "adminctl", "users", "remove", "alice")
    assert missing.returncode == 1 and "[GK0204E] No user alice" in missing.stderr
    assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_populate_commands(tmp_path):
    env = cluster_env(tmp_path)
    first = cli(env, "adminctl", "populate", "now", "--conditional")
    assert first.returncode == 0 and first.stdout.startswith("[GK0101I] Populated the store")
    assert "exposers 2 new" in first.stdout and "profiles 4 new" in first.stdout
    second = cli(env, "adminctl", "populate", "now", "--conditional")
    assert second.stdout.strip() == "[GK0102I] The store is already populated - nothing to do"
    db = sqlite3.connect(tmp_path / "mgmt.db")
    with db:
        db.execute("UPDATE datastores SET status='INPROGRESS' WHERE name='sas1'")
    refused = cli(env, "adminctl", "populate", "rebuild")
    assert refused.returncode == 1
    assert "[GK0103E] Cannot rebuild while 1 item(s) are PENDING or INPROGRESS" in refused.stderr
    with db:
        db.execute("UPDATE datastores SET status='ERRORED' WHERE name='sas1'")
    rebuilt = cli(env, "adminctl", "populate", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert db.execute("SELECT status FROM datastores WHERE name='sas1'").fetchone() == ("ACTIVE",)
    unknown = cli(env, "adminctl", "policy", "install", "fancy")
    assert unknown.returncode == 2 and "unknown policy" in unknown.stderr


def test_serve_over_https_with_a_selfsigned_certificate(tmp_path):
    svc = Service(tmp_path)
    made = cli(svc.env, "adminctl", "tls", "selfsigned", "--dir", str(tmp_path / "tls"))
    assert made.returncode == 0, made.stderr
    assert "[GK0302I] Wrote a self-signed certificate" in made.stdout
    assert oct((tmp_path / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"
    bad = cli(svc.env, "adminctl", "tls", "selfsigned", "--hostname", "a b;rm")
    assert bad.returncode == 1 and "invalid host name" in bad.stderr
    svc.start()
    try:
        assert svc.url.startswith("https://127.0.0.1:")
        cert = str(tmp_path / "tls" / "cert.pem")
        token = requests.post(svc.url + "/oauth2/token", verify=cert, data={
            "grant_type": "password", "username": "admin",
            "password": svc.admin_password}).json()["access_token"]
        resp = requests.get(svc.url + "/spaces/", auth=(token, ""), verify=cert)
        assert resp.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(svc.url + "/spaces/", auth=(token, ""))
    finally:
        svc.stop()
