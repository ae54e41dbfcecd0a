"""Spaces and their exposers over REST, against a real ``gpfskit serve`` on loopback: a space
linked under an NFS exposer, NFS and SMB exposers made for a space, dependent spaces; each
checked through the emulated commands and the share fragments on disk."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

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
GIB = 1024 ** 3


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("sharing"), gpfskit__management__port=free_port())
    assert cli(svc.env, "adminctl", "policy", "install", "default").returncode == 0
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def mount(service) -> Path:
    return service.root / "gpfs" / "mmfs1"


@pytest.fixture
def session(service):
    return service.session()


def created(session, url: str, resource: str, **values) -> dict:
    """POST an item and wait for it: its data once ACTIVE."""
    resp = session.post(url + f"/{resource}/", json=cj_body(**values), headers=CJ)
    assert resp.status_code == 202, resp.text
    assert wait_status(session, resp.headers["Location"]) == "ACTIVE", \
        session.get(resp.headers["Location"]).text
    return data(resp.json()["collection"]["items"][0])


def deleted(session, url: str, href: str) -> None:
    resp = session.delete(url + href)
    assert resp.status_code == 202, resp.text
    job = wait_for_job(session, url, resp.headers["Location"].removeprefix(url))
    assert job["state"] == "COMPLETED", job
    assert session.get(url + href).status_code == 404


def refused(session, url: str, href: str, status: int, words: str) -> None:
    resp = session.delete(url + href)
    assert resp.status_code == status and words in resp.text, resp.text


def get(session, url: str, href: str) -> dict:
    return data(session.get(url + href).json()["collection"]["items"][0])


def junction(service: Service, fileset: str) -> str:
    """The junction ``mmlsfileset`` reports for ``fileset``."""
    out = mm(service, "mmlsfileset", "mmfs1", fileset, "-Y")
    header, row = [line.split(":") for line in out.splitlines()[:2]]
    return unquote(row[header.index("path")])


def test_a_space_is_linked_under_an_nfs_exposer_and_shared_for_itself(service, session,
                                                                       mount):
    url = service.url
    (mount / "studio").mkdir()
    studio = created(session, url, "exposers", name="studio", type="nfs",
                     path=str(mount / "studio"))
    native = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    adder = created(session, url, "spaces", name="adder", relativepath="projects/adder",
                    exposers=f"{native},/exposers/{studio['id']}", profile=profile, size=GIB)
    where = mount / "studio" / "projects" / "adder"
    assert get(session, url, f"/spaces/{adder['id']}")["path"] == str(where)
    assert junction(service, "sas1-adder") == str(where)

    nfs = created(session, url, "exposers", name="adder-nfs", type="nfs",
                  space=f"/spaces/{adder['id']}",
                  extras=json.dumps({"clients": [{"client": "10.0.0.0/8",
                                                  "Access_Type": "RW"}]}))
    smb = created(session, url, "exposers", name="adder", type="smb",
                  space=f"/spaces/{adder['id']}", extras=json.dumps({"options": {
                      "read only": "no"}}))
    assert get(session, url, f"/exposers/{nfs['id']}")["path"] == str(where)
    assert str(where) in mm(service, "mmnfs", "export", "list")
    assert "adder" in mm(service, "mmsmb", "export", "list")
    nfs_fragment = service.root / "etc" / "ganesha" / "exports.d" / f"pixmanaged.{nfs['id']}.conf"
    smb_fragment = service.root / "etc" / "samba" / "pixmanaged.d" / f"pixmanaged.{smb['id']}.conf"
    assert f'Path = "{where}";' in nfs_fragment.read_text()
    assert f"path = {where}" in smb_fragment.read_text()
    shares = items(session.get(url + "/exposers/",
                               params={"where": json.dumps({"space.name": "adder"})}))
    assert sorted(e["name"] for e in shares) == ["adder", "adder-nfs"]

    refused(session, url, f"/spaces/{adder['id']}", 409, "is shared by exposers")
    refused(session, url, f"/exposers/{studio['id']}", 409, "how spaces are reached (adder)")
    deleted(session, url, f"/exposers/{nfs['id']}")
    deleted(session, url, f"/exposers/{smb['id']}")
    assert not nfs_fragment.exists() and not smb_fragment.exists()
    assert str(where) not in mm(service, "mmnfs", "export", "list")
    deleted(session, url, f"/spaces/{adder['id']}")
    assert "sas1-adder" not in mm(service, "mmlsfileset", "mmfs1")
    deleted(session, url, f"/exposers/{studio['id']}")


def test_what_a_space_and_its_exposers_refuse(service, session, mount):
    url = service.url
    for name in ("left", "right"):
        (mount / name).mkdir()
    left = created(session, url, "exposers", name="left", type="nfs", path=str(mount / "left"))
    right = created(session, url, "exposers", name="right", type="nfs",
                    path=str(mount / "right"))
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    resp = session.post(url + "/spaces/", json=cj_body(
        name="krait", relativepath="krait", profile=profile, size=GIB,
        exposers=f"/exposers/{left['id']},/exposers/{right['id']}"), headers=CJ)
    assert resp.status_code == 422 and "not one inside the other" in resp.text, resp.text
    krait = created(session, url, "spaces", name="krait", relativepath="krait",
                    profile=profile, size=GIB, exposers=f"/exposers/{left['id']}")

    both = session.post(url + "/exposers/", json=cj_body(
        name="both", type="nfs", space=f"/spaces/{krait['id']}", path=str(mount / "left")),
        headers=CJ)
    assert both.status_code == 422 and "not both" in both.text, both.text
    dry = session.post(url + "/exposers/?dry_run=true", json=cj_body(
        name="krait-nfs", type="nfs", space=f"/spaces/{krait['id']}"), headers=CJ)
    assert dry.status_code == 200, dry.text
    assert data(dry.json()["collection"]["items"][0])["commands"] == \
        f"mmnfs export add {mount / 'left' / 'krait'} --client '*'"
    assert str(mount / "left" / "krait") not in mm(service, "mmnfs", "export", "list")

    deleted(session, url, f"/spaces/{krait['id']}")
    for exposer in (left, right):
        deleted(session, url, f"/exposers/{exposer['id']}")


def test_a_dependent_space_lives_in_its_parents_inode_space(service, session, mount):
    url = service.url
    native = find(session, url, "exposers", {"type": "gpfsnative", "name": "mmfs1"})
    profile = find(session, url, "profiles", {"name": "mmfs1-sas1"})
    boa = created(session, url, "spaces", name="boa", relativepath="projects/boa",
                  exposers=native, profile=profile, size=4 * GIB)
    boa_href = f"/spaces/{boa['id']}"
    outside = session.post(url + "/spaces/", json=cj_body(
        name="boa-shots", relativepath="projects/elsewhere", exposers=native,
        profile=profile, size=GIB, parent=boa_href), headers=CJ)
    assert outside.status_code == 422 and "not inside the parent space" in outside.text
    shots = created(session, url, "spaces", name="boa-shots",
                    relativepath="projects/boa/shots", exposers=native, profile=profile,
                    size=GIB, parent=boa_href)
    listing = mm(service, "mmlsfileset", "mmfs1", "sas1-boa-shots", "-L", "-Y")
    header, row = [line.split(":") for line in listing.splitlines()[:2]]
    parent_row = mm(service, "mmlsfileset", "mmfs1", "sas1-boa", "-L", "-Y").splitlines()[1]
    assert row[header.index("inodeSpace")] == parent_row.split(":")[header.index("inodeSpace")]
    assert junction(service, "sas1-boa-shots") == str(mount / "projects" / "boa" / "shots")
    assert " 1048576 " in mm(service, "mmlsquota", "-j", "sas1-boa-shots", "mmfs1")  # 1 GiB
    shots_href = f"/spaces/{shots['id']}"
    assert session.get(url + shots_href).json()["collection"]["items"][0]["links"][0][
        "href"] == boa_href

    nested = session.post(url + "/spaces/", json=cj_body(
        name="boa-takes", relativepath="projects/boa/shots/takes", exposers=native,
        profile=profile, size=GIB, parent=shots_href), headers=CJ)
    assert nested.status_code == 422 and "itself a dependent space" in nested.text
    snap = session.post(url + "/snapshots/", json=cj_body(
        name="shots-snap", type="gpfsspacesnapshot", space=shots_href), headers=CJ)
    assert snap.status_code == 422 and "snapshot that space" in snap.text

    refused(session, url, boa_href, 409, "holds dependent spaces (boa-shots)")
    deleted(session, url, shots_href)
    deleted(session, url, boa_href)
    assert "sas1-boa" not in mm(service, "mmlsfileset", "mmfs1")
