"""Templates and spaces on the demo cluster, checked from the user's side: the emulated
commands in a subprocess (``gpfskit mm``), the tree on disk, the policy."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gpfskit.api import Cluster, DependentFileset
from gpfskit.commands import dry_run
from gpfskit.mgmt.provision.errors import FieldError, RefusedError
from gpfskit.mgmt.provision.profiles import Profile, ensure_default_placement_rules
from gpfskit.mgmt.provision.snapshots import create_snapshot, delete_snapshot
from gpfskit.mgmt.provision.spaces import (
    SpaceError,
    create_space,
    delete_space,
    resize_space,
)
from gpfskit.mgmt.provision.templates import capture_template, stored_templates
from gpfskit.mgmt.provision.undo import UndoLog
from helpers import ok

GIB = 1024 ** 3
SAS1 = Profile("mmfs1-sas1", "mmfs1", "sas1")
LAYOUT = ["flame", "houdini", "maya", "mudbox", "nuke", "published", "rendering"]
HIDDEN = "user.gpfskit."
GPFSKIT = Path(sys.executable).parent / "gpfskit"


def posix_acl(user: int) -> bytes:
    """A POSIX access ACL granting ``user`` r-x (the kernel's xattr encoding)."""
    entries = [(0x01, 7, 0xFFFFFFFF), (0x02, 5, user), (0x04, 5, 0xFFFFFFFF),
               (0x10, 7, 0xFFFFFFFF), (0x20, 5, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def make_model(mp: Path, name: str = "project_template", fileset: str | None = "assets"
               ) -> Path:
    """The walkthrough's model: seven directories, ``assets`` a dependent fileset holding
    models/ and rigs/, plus a file with a mode, an owner, an xattr and an ACL."""
    model = mp / name
    model.mkdir()
    for directory in LAYOUT:
        (model / directory).mkdir()
    if fileset is not None:
        dependent = DependentFileset("mmfs1", f"model-{name}")
        dependent.create()
        dependent.link(str(model / fileset))
    else:
        (model / "assets").mkdir()
    (model / "assets" / "models").mkdir()
    (model / "assets" / "rigs").mkdir()
    readme = model / "published" / "README"
    readme.write_text("deliverables go here\n")
    os.chmod(readme, 0o640)
    os.chmod(model / "rendering", 0o2775)
    os.setxattr(readme, "user.project.kind", b"doc")
    os.setxattr(model / "maya", "system.posix_acl_access", posix_acl(4321))
    if os.geteuid() == 0:
        os.chown(readme, 1234, 5678)
    return model


def snapshot_tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind, mode, owner, content, visible xattrs."""
    found = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".snapshots")
        for name in [*dirs, *files]:
            path = Path(directory) / name
            info = path.lstat()
            xattrs = {n: os.getxattr(path, n) for n in os.listxattr(path)
                      if not n.startswith(HIDDEN)}
            content = path.read_bytes() if path.is_file() else None
            found[str(path.relative_to(root))] = (oct(info.st_mode), info.st_uid,
                                                  info.st_gid, content, xattrs)
    return found


def mm_cli(*argv: str) -> str:
    """An emulated command run from a shell, in a new process (as a user would)."""
    done = subprocess.run([str(GPFSKIT), "mm", *argv],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def fileset_rows(mm) -> str:
    return ok(mm("mmlsfileset", "mmfs1", "-Y")).stdout


def test_walkthrough_space_from_the_users_side(mp, tmp_path):
    model = make_model(mp)
    ensure_default_placement_rules("mmfs1")
    template = capture_template("project_template", str(model))
    assert [(f.path, f.pool) for f in template.filesets] == [("assets", "sata1")]
    expected = snapshot_tree(model)
    # The template no longer depends on the model.
    subprocess.run(["rm", "-rf", str(model / "maya"), str(model / "published")], check=True)

    result = create_space("sleepy-snake", "mmfs1", SAS1, "projects/sleepy_snake", 4 * GIB,
                          [template])
    space = mp / "projects" / "sleepy_snake"
    assert result.fileset == "sas1-sleepy-snake" and result.path == str(space)
    [dependent] = result.dependent_filesets
    assert dependent.startswith("sata1-sleepy-snake-") and len(dependent) == 27
    int(dependent[-8:], 16)

    listing = mm_cli("mmlsfileset", "mmfs1")
    assert "sas1-sleepy-snake" in listing
    line = next(x for x in listing.splitlines() if x.startswith(dependent))
    assert line.split()[1:] == ["Linked", str(space / "assets")]
    assert snapshot_tree(space) == expected
    quota = mm_cli("mmlsquota", "-j", "sas1-sleepy-snake", "mmfs1").splitlines()[-1].split()
    assert quota[:2] == ["mmfs1", "FILESET"] and quota[4] == "4194304"
    assert quota[3] == str(int(4 * GIB * 0.9) // 1024)
    policy = mm_cli("mmlspolicy", "mmfs1", "-L")
    assert "RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'" in policy
    assert policy.rstrip().endswith("RULE 'default' SET POOL 'sata1'")
    # New files land in the space's pool, those under assets in the template's.
    (space / "nuke" / "shot.nk").write_text("x")
    (space / "assets" / "rig.ma").write_text("x")
    assert "sas1" in mm_cli("mmlsattr", "-L", str(space / "nuke" / "shot.nk"))
    assert "sata1" in mm_cli("mmlsattr", "-L", str(space / "assets" / "rig.ma"))


def test_the_demo_cluster_made_by_the_cli(tmp_path, monkeypatch):
    """The same space on a cluster made with ``gpfskit emulator init --demo``."""
    root = tmp_path / "demo"
    done = subprocess.run([str(GPFSKIT), "emulator", "init", "--demo", "--root", str(root)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    mp = root / "gpfs" / "mmfs1"
    (mp / "model").mkdir()
    (mp / "model" / "docs").mkdir()
    template = capture_template("simple", str(mp / "model"))
    create_space("demo", "mmfs1", SAS1, "a/b/demo", GIB, [template])
    assert "sas1-demo" in mm_cli("mmlsfileset", "mmfs1")
    assert (mp / "a" / "b" / "demo" / "docs").is_dir()


def cluster_state(mm, mp: Path) -> tuple:
    return (fileset_rows(mm), ok(mm("mmrepquota", "-j", "mmfs1", "-Y")).stdout,
            ok(mm("mmlspolicy", "mmfs1", "-L")).stdout, sorted(
                str(p.relative_to(mp)) for p in mp.rglob("*") if ".policytmp" not in p.parts))


def test_a_failure_halfway_rolls_everything_back(mp, mm):
    """Two templates: one has a plain ``assets`` directory with a file, the other makes
    ``assets`` a dependent fileset; linking it collides after the fileset, its link, the
    quota and the first template are in place."""
    plain = capture_template("plain", str(make_model(mp, "plain", fileset=None)))
    fileset = capture_template("withfileset", str(make_model(mp, "withfileset")))
    ensure_default_placement_rules("mmfs1")
    before = cluster_state(mm, mp)
    saved: list = []
    with pytest.raises(SpaceError, match="creating space snake failed") as caught:
        create_space("snake", "mmfs1", SAS1, "projects/deep/snake", GIB, [plain, fileset],
                     on_undo_change=saved.append)
    assert caught.value.rollback_problems == []
    assert "already exists" in str(caught.value)
    assert cluster_state(mm, mp) == before
    assert not (mp / "projects").exists()
    assert saved[-1] == []                     # the persisted log ends empty


def test_a_crash_halfway_is_rolled_back_from_the_persisted_log(mp, mm, monkeypatch):
    template = capture_template("t", str(make_model(mp)))
    ensure_default_placement_rules("mmfs1")
    before = cluster_state(mm, mp)
    saved: list = []

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # stands for a killed worker: no except clause runs

    monkeypatch.setattr("gpfskit.mgmt.provision.spaces.lay_out", crash)
    with pytest.raises(KeyboardInterrupt):
        create_space("snake", "mmfs1", SAS1, "p/snake", GIB, [template],
                     on_undo_change=saved.append)
    assert "sas1-snake" in fileset_rows(mm)
    assert UndoLog(saved[-1]).rollback() == []
    assert cluster_state(mm, mp) == before


def test_rollback_never_deletes_a_fileset_it_did_not_create(mp, mm):
    DependentFileset("mmfs1", "sas1-theirs").create()
    log = UndoLog([{"action": "create_fileset", "filesystem": "mmfs1",
                    "fileset": "sas1-theirs", "marker": "space theirs"}])
    assert log.rollback() == []
    assert "sas1-theirs" in fileset_rows(mm)


def test_dry_run_lists_the_commands_in_order_and_changes_nothing(mp, mm):
    template = capture_template("t", str(make_model(mp)))
    ensure_default_placement_rules("mmfs1")
    before = cluster_state(mm, mp)
    with dry_run() as commands:
        result = create_space("sleepy-snake", "mmfs1", SAS1, "projects/sleepy_snake",
                              4 * GIB, [template])
    space = mp / "projects" / "sleepy_snake"
    dependent = result.dependent_filesets[0]
    assert list(result.commands) == commands == [
        "mmcrfileset mmfs1 sas1-sleepy-snake --inode-space new -t 'space sleepy-snake'",
        f"mmlinkfileset mmfs1 sas1-sleepy-snake -J {space}",
        "mmsetquota mmfs1:sas1-sleepy-snake --block 3774873K:4194304K",
        f"mmcrfileset mmfs1 {dependent} --inode-space sas1-sleepy-snake "
        "-t 'space sleepy-snake'",
        f"mmlinkfileset mmfs1 {dependent} -J {space}/assets",
    ]
    assert cluster_state(mm, mp) == before


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "sleepy snake"}, "name"),
    ({"name": "a/b"}, "name"),
    ({"name": "x;rm -rf /"}, "name"),
    ({"name": "'quoted'"}, "name"),
    ({"relativepath": "/abs/path"}, "relativepath"),
    ({"relativepath": "projects/../etc"}, "relativepath"),
    ({"relativepath": "projects//x"}, "relativepath"),
    ({"relativepath": "projects/x/"}, "relativepath"),
    ({"relativepath": "p/$(id)"}, "relativepath"),
    ({"relativepath": ""}, "relativepath"),
    ({"size": 0}, "size"),
    ({"size": -5}, "size"),
    ({"size": "4G"}, "size"),
    ({"size": True}, "size"),
    ({"size": 1.5}, "size"),
    ({"filesystem": "nofs"}, "exposers"),
    ({"profile": Profile("mmfs2-system", "mmfs2", "system")}, "profile"),
    ({"profile": Profile("mmfs1-x", "mmfs1", "nopool")}, "profile"),
])
def test_bad_input_names_the_field_and_changes_nothing(mp, mm, kwargs, field):
    before = cluster_state(mm, mp)
    arguments = {"name": "snake", "filesystem": "mmfs1", "profile": SAS1,
                 "relativepath": "projects/snake", "size": GIB, **kwargs}
    with pytest.raises(FieldError) as caught:
        create_space(**arguments)
    assert caught.value.field == field
    assert cluster_state(mm, mp) == before


def test_a_missing_model_is_refused_and_the_store_untouched(mp, emulator_root):
    with pytest.raises(FieldError) as caught:
        capture_template("t", str(mp / "nothing-here"))
    assert caught.value.field == "template_location"
    with pytest.raises(FieldError):
        capture_template("t", "relative/model")
    assert stored_templates() == []
    assert not (emulator_root / "templates").exists()


def test_duplicates_and_paths_inside_other_spaces_are_refused(mp, mm):
    create_space("snake", "mmfs1", SAS1, "projects/snake", GIB)
    with pytest.raises(FieldError) as caught:
        create_space("snake", "mmfs1", SAS1, "projects/other", GIB)
    assert caught.value.field == "name"
    with pytest.raises(FieldError, match="already exists") as caught:
        create_space("viper", "mmfs1", SAS1, "projects/snake", GIB)
    assert caught.value.field == "relativepath"
    with pytest.raises(FieldError, match="inside the space") as caught:
        create_space("viper", "mmfs1", SAS1, "projects/snake/viper", GIB)
    assert caught.value.field == "relativepath"
    # The same name with another profile is another fileset: allowed.
    create_space("snake", "mmfs1", Profile("mmfs1-sata1", "mmfs1", "sata1"),
                 "projects/snake2", GIB)
    assert "sata1-snake" in fileset_rows(mm)


def test_dependent_space_inside_a_parent_space(mp, mm):
    create_space("parent", "mmfs1", SAS1, "projects/parent", 4 * GIB)
    child = create_space("child", "mmfs1", SAS1, "projects/parent/child", GIB,
                         parent="sas1-parent")
    rows = {r.name: r for r in Cluster().filesystems["mmfs1"].filesets.values()}
    assert not rows["sas1-child"].independent
    assert rows["sas1-child"].inodeSpace == rows["sas1-parent"].inodeSpace
    assert child.path == str(mp / "projects" / "parent" / "child")
    with pytest.raises(RefusedError, match="holds other spaces"):
        delete_space("mmfs1", "sas1-parent")
    with pytest.raises(RefusedError, match="dependent"):
        create_snapshot("mmfs1", "s1", "sas1-child")
    delete_space("mmfs1", "sas1-child")
    delete_space("mmfs1", "sas1-parent")
    assert "sas1-" not in fileset_rows(mm)


def test_a_space_under_another_root_and_shared_cannot_be_deleted(mp, mm):
    from gpfskit.mgmt.provision.exposers import create_smb_exposer, delete_smb_exposer

    (mp / "studio").mkdir()
    space = create_space("adder", "mmfs1", SAS1, "projects/adder", GIB, root=str(mp / "studio"))
    assert space.path == str(mp / "studio" / "projects" / "adder")
    assert space.path in mm_cli("mmlsfileset", "mmfs1", "sas1-adder")
    for outside in (str(mp.parent), "studio", str(mp / "missing")):
        with pytest.raises(FieldError, match="is not a directory of file system") as caught:
            create_space("krait", "mmfs1", SAS1, "krait", GIB, root=outside)
        assert caught.value.field == "exposers"
    (Path(space.path) / "shots").mkdir()
    create_smb_exposer("adder-smb", "adder", str(Path(space.path) / "shots"))
    with pytest.raises(RefusedError, match=r"is shared \(SMB share adder\)"):
        delete_space("mmfs1", "sas1-adder")
    assert "sas1-adder" in fileset_rows(mm)
    delete_smb_exposer("adder-smb", "adder")
    delete_space("mmfs1", "sas1-adder")
    assert "sas1-adder" not in fileset_rows(mm)


def test_resize_changes_the_quota(mp, mm):
    create_space("snake", "mmfs1", SAS1, "projects/snake", 4 * GIB)
    resize_space("mmfs1", "sas1-snake", 8 * GIB)
    quota = mm_cli("mmlsquota", "-j", "sas1-snake", "mmfs1").splitlines()[-1].split()
    assert quota[4] == str(8 * GIB // 1024) and quota[3] == str(int(8 * GIB * 0.9) // 1024)
    with pytest.raises(FieldError):
        resize_space("mmfs1", "sas1-snake", 0)
    with pytest.raises(FieldError):
        resize_space("mmfs1", "sas1-nothing", GIB)


def test_delete_refuses_snapshots_and_data_unless_forced(mp, mm):
    template = capture_template("t", str(make_model(mp)))
    result = create_space("snake", "mmfs1", SAS1, "projects/snake", GIB, [template])
    space = Path(result.path)
    snap = create_snapshot("mmfs1", "snake-snap", "sas1-snake")
    assert snap.location == str(space / ".snapshots" / "snake-snap")
    assert (space / ".snapshots" / "snake-snap" / "published" / "README").is_file()
    with pytest.raises(RefusedError, match="has snapshots"):
        delete_space("mmfs1", "sas1-snake", force=True)
    delete_snapshot("mmfs1", "snake-snap", "sas1-snake")
    with pytest.raises(RefusedError, match="holds data"):
        delete_space("mmfs1", "sas1-snake")
    assert "sas1-snake" in fileset_rows(mm)
    deleted = delete_space("mmfs1", "sas1-snake", force=True)
    assert deleted.dependent_filesets == result.dependent_filesets
    rows = fileset_rows(mm)
    assert "sas1-snake" not in rows and "sata1-snake" not in rows
    assert not space.exists()


def test_an_empty_layout_is_not_data(mp, mm):
    create_space("snake", "mmfs1", SAS1, "projects/snake", GIB)
    (mp / "projects" / "snake" / "empty-dir").mkdir()
    delete_space("mmfs1", "sas1-snake")
    assert "sas1-snake" not in fileset_rows(mm)


def test_filesystem_snapshots_and_dry_run(mp, mm):
    with dry_run():
        planned = create_snapshot("mmfs1", "nightly")
    assert planned.commands == ("mmcrsnapshot mmfs1 nightly",)
    assert "nightly" not in ok(mm("mmlssnapshot", "mmfs1")).stdout + \
        ok(mm("mmlssnapshot", "mmfs1")).stderr
    made = create_snapshot("mmfs1", "nightly")
    assert made.location == str(mp / ".snapshots" / "nightly")
    with pytest.raises(FieldError, match="already exists"):
        create_snapshot("mmfs1", "nightly")
    with pytest.raises(FieldError):
        create_snapshot("mmfs1", "bad name")
    delete_snapshot("mmfs1", "nightly")
    with pytest.raises(FieldError, match="no snapshot"):
        delete_snapshot("mmfs1", "nightly")
