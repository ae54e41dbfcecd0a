"""The management store on SQLite and PostgreSQL: migrations, discovery, accounts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select

from gpfskit.mgmt import discovery, models, resources, store
from gpfskit.mgmt.auth import accounts
from gpfskit.mgmt.auth.roles import DEFAULT_ROLES, seed_default_roles
from helpers import ok
from mgmt_stores import database

resources.load()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path, emulator_root):
    with database(request.param, tmp_path) as url:
        store.migrate(url)
        yield url


def count(url: str, model, **where) -> int:
    with store.session(url) as s:
        return s.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_migrations_make_every_table_and_run_again_harmlessly(url):
    store.migrate(url)
    tables = set(inspect(store.engine(url)).get_table_names())
    assert {t.name for t in models.Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_the_newest_revision_is_alembics_head(url):
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(store.MIGRATIONS)).get_current_head() == store.newest_revision()
    with store.engine(url).connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() \
            == store.newest_revision()


def test_the_migrations_make_exactly_the_models_schema(url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine(url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection),
                                       models.Base.metadata)
    assert differences == []


def test_upgrading_keeps_every_row_and_fills_in_the_junction_of_older_spaces(tmp_path):
    """SQLite alters a table by copying it: the rows that refer to it must survive."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store.migrate(url, "0001")
    with store.engine(url).begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO exposers (id, name, status, status_message, comment, extras, created,"
            " updated, type, filesystem, mountpoint) VALUES ('e1', 'mmfs1', 'ACTIVE', '', '',"
            " '{}', '2026-01-01', '2026-01-01', 'gpfsnative', 'mmfs1', '/gpfs/mmfs1')")
        connection.exec_driver_sql(
            "INSERT INTO spaces (id, name, status, status_message, comment, extras, created,"
            " updated, relativepath, filesystem) VALUES ('s1', 'viper', 'ACTIVE', '', '', '{}',"
            " '2026-01-01', '2026-01-01', 'projects/viper', 'mmfs1')")
        connection.exec_driver_sql("INSERT INTO space_exposers VALUES ('s1', 'e1')")
    store.migrate(url)
    with store.session(url) as s:
        space = s.get(models.Space, "s1")
        assert [e.id for e in space.exposers] == ["e1"]
        assert space.path == "/gpfs/mmfs1/projects/viper"


def test_sqlite_runs_in_wal_mode(tmp_path):
    with database("sqlite", tmp_path) as url:
        store.migrate(url)
        with store.engine(url).connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_populate_finds_the_demo_cluster(url, mm, mp):
    ok(mm("mmcrfileset", "mmfs1", "sas1-proj", "--inode-space", "new"))
    (mp / "projects").mkdir()
    ok(mm("mmlinkfileset", "mmfs1", "sas1-proj", "-J", str(mp / "projects" / "proj")))
    ok(mm("mmsetquota", "mmfs1:sas1-proj", "--block", "1G:2G"))
    ok(mm("mmcrsnapshot", "mmfs1", "snap1"))
    ok(mm("mmcrsnapshot", "mmfs1", "sas1-proj:fsnap"))
    text = discovery.populate(url)
    assert text.startswith("[GK0101I] Populated the store")
    with store.session(url) as s:
        space = s.scalars(select(models.Space)).one()
        assert (space.name, space.fileset, space.relativepath) == (
            "proj", "sas1-proj", "projects/proj")
        assert space.size == 2 * 2**30
        assert space.profile.name == "mmfs1-sas1"
        assert [e.name for e in space.exposers] == ["mmfs1"]
        snaps = {(x.name, x.type, x.space.name if x.space else None)
                 for x in s.scalars(select(models.Snapshot))}
        assert snaps == {("snap1", "gpfsglobalsnapshot", None),
                         ("fsnap", "gpfsspacesnapshot", "proj")}
        profile = s.scalars(select(models.Profile).filter_by(name="mmfs1-sas1")).one()
        assert profile.datastore.pool == "sas1" and profile.default


def test_exports_become_exposers(url, mm, mp):
    (mp / "projects").mkdir()
    ok(mm("mmnfs", "export", "add", str(mp / "projects"), "--client",
          "10.0.0.0/8(Access_Type=RW)"))
    ok(mm("mmsmb", "export", "add", "projects", str(mp / "projects")))
    discovery.populate(url)
    with store.session(url) as s:
        shares = s.scalars(select(models.Exposer).where(models.Exposer.type != "gpfsnative"))
        found = {(e.type, e.name, e.path, e.filesystem) for e in shares}
        nfs = s.scalars(select(models.Exposer).filter_by(type="nfs")).one()
        clients = json.loads(nfs.extras)["clients"]
    name = discovery.export_name(str(mp / "projects"))
    assert found == {("nfs", name, str(mp / "projects"), "mmfs1"),
                     ("smb", "projects", str(mp / "projects"), "mmfs1")}
    assert clients[0]["client"] == "10.0.0.0/8" and clients[0]["Access_Type"] == "RW"
    ok(mm("mmsmb", "export", "remove", "projects"))
    discovery.populate(url)
    assert count(url, models.Exposer, type="smb") == 0
    assert count(url, models.Exposer, type="nfs") == 1


def test_populate_conditional_and_reconciling(url, mm):
    discovery.populate(url)
    assert discovery.populate(url, conditional=True) == \
        "[GK0102I] The store is already populated - nothing to do"
    with store.session(url) as s:
        errored = s.scalars(select(models.Profile).filter_by(name="mmfs2-system")).one()
        errored.status, errored.status_message = models.ERRORED, "create failed: x"
        s.add(models.Exposer(name="gone", type="gpfsnative", filesystem="gone",
                             status=models.ACTIVE))
    discovery.populate(url)
    assert count(url, models.Exposer, name="gone") == 0  # an ACTIVE orphan is dropped
    assert count(url, models.Profile, name="mmfs2-system", status=models.ERRORED) == 1
    discovery.populate(url, mode="rebuild")
    assert count(url, models.Profile, name="mmfs2-system", status=models.ACTIVE) == 1


def test_rebuild_refused_while_items_are_busy(url):
    discovery.populate(url)
    with store.session(url) as s:
        s.scalars(select(models.Datastore)).first().status = models.PENDING
    with pytest.raises(discovery.RebuildRefused, match=r"\[GK0103E\] Cannot rebuild while 1"):
        discovery.populate(url, mode="rebuild")


def test_excluded_filesets_are_not_spaces(url, mm):
    ok(mm("mmcrfileset", "mmfs1", "scratch", "--inode-space", "new"))
    discovery.populate(url, exclude=("root", "scr*"))
    assert count(url, models.Space) == 0
    discovery.populate(url, exclude=("root",))
    assert count(url, models.Space, fileset="scratch") == 1


def test_accounts_tokens_and_throttling(url):
    with store.session(url) as s:
        seed_default_roles(s)
    with store.session(url) as s:
        accounts.create_user(s, "alice", "alice-password", ["operator"])
    with store.session(url) as s:
        user = accounts.authenticate(s, "alice", "alice-password", "192.0.2.1")
        token = accounts.issue_token(s, user, 60)
    with store.session(url) as s:
        stored = s.scalars(select(models.Token)).one()
        assert stored.digest != token and len(stored.digest) == 64
        principal = accounts.resolve(s, token)
    assert principal.user == "alice" and principal.roles == ("operator",)
    assert principal.permissions.allows("spaces", "POST")
    assert not principal.permissions.allows("profiles", "POST")
    assert not principal.permissions.allows("users", "GET")
    with store.session(url) as s:
        assert accounts.revoke(s, token)
    with store.session(url) as s:
        assert accounts.resolve(s, token) is None

    for _ in range(accounts.FREE_FAILURES):
        with store.session(url) as s, pytest.raises(accounts.LoginRefused):
            accounts.authenticate(s, "alice", "wrong", "192.0.2.9")
    with store.session(url) as s, pytest.raises(accounts.Throttled):
        accounts.authenticate(s, "alice", "alice-password", "192.0.2.1")  # the user is
    with store.session(url) as s, pytest.raises(accounts.Throttled):
        accounts.authenticate(s, "someone", "x", "192.0.2.9")  # and so is the address


def test_default_roles_are_data(url):
    with store.session(url) as s:
        seed_default_roles(s)
    with store.session(url) as s:
        names = set(s.scalars(select(models.Role.name)))
    assert names == set(DEFAULT_ROLES)


def test_policy_install_skips_a_filesystem_without_default_rule(emulator_root, mm):
    from gpfskit.policy import Criteria, PlacementPolicy, SetPoolRule

    policy = PlacementPolicy("mmfs2")
    policy.rules.clear()
    policy.rules.add(SetPoolRule(target="system", name="media",
                                 criteria=Criteria.raw("NAME LIKE '%.mp4'")))
    policy.save()
    before = mm("mmlspolicy", "mmfs2", "-L").stdout
    out = discovery.install_default_policy()
    assert "[GK0117E] Filesystem mmfs2 has no default placement rule - skipping" in out
    assert "[GK0110I] Installed placement rule sas1-placement on filesystem mmfs1" in out
    assert mm("mmlspolicy", "mmfs2", "-L").stdout == before
