"""Differential test: mmapplypolicy's LIST output against an independent os.walk oracle.

An awkward tree (names with spaces, newlines, invalid UTF-8, '%', ' -- ', backslashes;
symlinks, hard links, a FIFO; nested independent and dependent filesets; global and fileset
snapshots; an ordinary directory that happens to be called .snapshots) is listed with
``mmapplypolicy fs -P pol -I defer -f prefix``. Every list file is read back and compared
with what a plain ``os.walk`` + ``os.lstat`` walk selects with the same filter written in
Python.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gpfskit.emulator import fileattrs
from gpfskit.emulator.applypolicy import prefilter
from gpfskit.emulator.applypolicy.job import SELECTING
from gpfskit.emulator.scan import parse_records
from gpfskit.language import EvalContext, parse_policy

# junction (relative to the fs root) -> fileset; proj and home/alice are independent
JUNCTIONS = {"": "root", "proj": "proj", "proj/sub": "projsub", "home/alice": "alice"}
INDEPENDENT = {"", "proj", "home/alice"}

AWKWARD = [b"plain.txt", b"with space.dat", b"new\nline.dat", b"\xff\xfe bad utf8.dat",
           b"100% sure.dat", b"a -- b.dat", b"-- lead.dat", b"back\\slash.dat",
           "caf\u00e9 na\u00efve.dat".encode(), b"tab\there.tmp", b"x" * 200 + b".dat",
           b"percent%2F.dat", b"quote'q.dat"]

OLD = time.mktime((2015, 6, 1, 12, 0, 0, 0, 0, -1))
NEW = time.mktime((2024, 6, 1, 12, 0, 0, 0, 0, -1))
CUTOFF = time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1))


def _file(path: bytes, size: int, uid: int, mtime: float) -> None:
    with open(path, "wb") as f:
        f.write(b"z" * size)
    os.chown(path, uid, uid)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def tree(mm, emulator_root: Path) -> Path:
    mp = emulator_root / "gpfs" / "mmfs1"
    assert mm("mmcrfileset", "mmfs1", "proj", "--inode-space", "new").returncode == 0
    assert mm("mmlinkfileset", "mmfs1", "proj", "-J", str(mp / "proj")).returncode == 0
    assert mm("mmcrfileset", "mmfs1", "projsub", "--inode-space", "proj").returncode == 0
    assert mm("mmlinkfileset", "mmfs1", "projsub", "-J", str(mp / "proj" / "sub")
              ).returncode == 0
    (mp / "home").mkdir()
    assert mm("mmcrfileset", "mmfs1", "alice", "--inode-space", "new").returncode == 0
    assert mm("mmlinkfileset", "mmfs1", "alice", "-J", str(mp / "home" / "alice")
              ).returncode == 0
    root = os.fsencode(mp)
    dirs = [b"", b"proj", b"proj/sub", b"proj/sub/deep", b"home/alice", b"home/alice/docs",
            b"home/bob", b"dir with\nnewline", b"d -- e", b"home/.snapshots"]
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    k = 0
    for d in dirs:
        for name in AWKWARD:
            k += 1
            _file(os.path.join(root, d, name), (k * 397) % 5000, 1000 if k % 3 else 2000,
                  OLD if k % 2 else NEW)
    os.symlink(b"proj", os.path.join(root, b"link-to-dir"))
    os.symlink(b"/nonexistent", os.path.join(root, b"dangling link"))
    os.symlink(b"plain.txt", os.path.join(root, b"proj", b"link-to-file"))
    os.link(os.path.join(root, b"plain.txt"), os.path.join(root, b"home", b"bob", b"hard"))
    os.link(os.path.join(root, b"plain.txt"), os.path.join(root, b"proj", b"sub", b"hard2"))
    os.mkfifo(os.path.join(root, b"fifo"))
    fileattrs.set_pool(os.path.join(root, b"proj", b"with space.dat"), "sas1")
    fileattrs.set_pool(os.path.join(root, b"home", b"bob", b"plain.txt"), "sas1")
    assert mm("mmcrsnapshot", "mmfs1", "snap1").returncode == 0
    assert mm("mmcrsnapshot", "mmfs1", "proj:psnap").returncode == 0
    # changes after the snapshots: the live tree and the copies differ
    _file(os.path.join(root, b"after snapshot.dat"), 1234, 1000, OLD)
    os.unlink(os.path.join(root, b"proj", b"sub", b"100% sure.dat"))
    return mp


# The oracle ---------------------------------------------------------------------------------

Entry = dict


def oracle_walk(top: bytes, visible: bytes, base_rel: str, hide_root_snapshots: bool = True
                ) -> list[Entry]:
    """Every object below ``top`` (and ``top`` itself) with its attributes, as the scan
    should see it."""
    st = os.lstat(top)
    entries = [{"path": visible, "name": os.path.basename(visible), "inode": st.st_ino,
                "size": st.st_size, "uid": st.st_uid, "mtime": st.st_mtime,
                "mode": stat.filemode(st.st_mode), "reg": False,
                "fileset": JUNCTIONS.get(base_rel, "root"), "pool": "system"}]
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = b"" if rel_dir == b"." else rel_dir
        live = "/".join(p for p in (base_rel, os.fsdecode(rel_dir)) if p)
        hidden = (live in INDEPENDENT and (rel_dir or hide_root_snapshots)) or \
            (not rel_dir and hide_root_snapshots)
        if hidden and b".snapshots" in dirnames:
            dirnames.remove(b".snapshots")
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.join(rel_dir, name) if rel_dir else name
            live_rel = "/".join(p for p in (base_rel, os.fsdecode(rel)) if p)
            fileset = "root"
            best = -1
            for junction, fset in JUNCTIONS.items():
                if junction and (live_rel == junction or live_rel.startswith(junction + "/")) \
                        and len(junction) > best:
                    best, fileset = len(junction), fset
            if not best + 1 and base_rel:
                fileset = next((f for j, f in JUNCTIONS.items() if j and (
                    base_rel == j or base_rel.startswith(j + "/"))), "root")
            try:
                recorded = os.getxattr(path, fileattrs.POOL, follow_symlinks=False).decode()
            except OSError:
                recorded = None
            entries.append({
                "path": visible + b"/" + rel, "name": name, "inode": st.st_ino,
                "size": st.st_size, "uid": st.st_uid, "mtime": st.st_mtime,
                "mode": stat.filemode(st.st_mode), "reg": stat.S_ISREG(st.st_mode),
                "fileset": fileset,
                "pool": "system" if stat.S_ISDIR(st.st_mode) else (recorded or "sata1")})
    return entries


def text(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


FILTERS: dict[str, tuple[str, Callable[[Entry], bool]]] = {
    "big": ("WHERE FILE_SIZE > 2500", lambda e: e["reg"] and e["size"] > 2500),
    "esc": ("SHOW(VARCHAR(USER_ID)) WHERE NAME LIKE '%a%' OR PATH_NAME LIKE '% -- %'",
            lambda e: e["reg"] and ("a" in text(e["name"]) or " -- " in text(e["path"]))),
    "escp": ("WHERE FILESET_NAME IN ('proj', 'projsub') AND "
             "MODIFICATION_TIME < TIMESTAMP('2020-01-01')",
             lambda e: e["reg"] and e["fileset"] in ("proj", "projsub")
             and e["mtime"] < CUTOFF),
    "own": ("WHERE USER_ID = 1000 AND (CURRENT_TIMESTAMP - MODIFICATION_TIME) > "
            "INTERVAL '30' DAYS",
            lambda e: e["reg"] and e["uid"] == 1000 and time.time() - e["mtime"] > 30 * 86400),
    "pct": ("WHERE NAME LIKE '%!%%' ESCAPE '!'", lambda e: e["reg"] and b"%" in e["name"]),
    "pool": ("WHERE POOL_NAME = 'sas1'", lambda e: e["reg"] and e["pool"] == "sas1"),
    "nl": ("WHERE REGEX(NAME, '[[:cntrl:]]') OR LENGTH(NAME) > 100",
           lambda e: e["reg"] and (re.search(r"[\x00-\x1f\x7f]", text(e["name"])) is not None
                                   or len(text(e["name"])) > 100)),
    "objs": ("DIRECTORIES_PLUS WHERE MODE LIKE 'd%' OR MODE LIKE 'l%' OR MODE LIKE 'p%'",
             lambda e: e["mode"][0] in "dlp"),
}

POLICY = """/* differential test */
RULE EXTERNAL LIST 'esc' EXEC '' ESCAPE '%'
RULE EXTERNAL LIST 'escp' EXEC '' ESCAPE '%/+@#'
RULE 'x1' LIST 'excl' EXCLUDE WHERE NAME LIKE '%.tmp'
RULE 'x2' LIST 'excl' WHERE FILE_SIZE < 1500
""" + "".join(f"RULE '{name}' LIST '{name}' {where}\n" for name, (where, _) in FILTERS.items())

ESCAPES = {"esc": "%", "escp": "%/+@#"}
RECORD = re.compile(rb"^\d+ \d+ \d+  (\S*) -- (.*)$", re.DOTALL)


def read_list(path: Path, escape: str | None) -> list:
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert RECORD.match(line), line
        if escape == "%":
            assert re.fullmatch(rb"[A-Za-z0-9_.~%-]*", RECORD.match(line).group(2)), line
    return list(parse_records(lines[:-1], escape=escape))


def check_lists(prefix: Path, entries: list[Entry], snapid: int = 0) -> None:
    wanted_excl = {(e["inode"], e["path"]) for e in entries
                   if e["reg"] and not text(e["name"]).endswith(".tmp") and e["size"] < 1500}
    got = {(r.inode, r.path) for r in read_list(Path(f"{prefix}.list.excl"), None)}
    assert got == wanted_excl
    for name, (_, selects) in FILTERS.items():
        escape = ESCAPES.get(name)
        records = read_list(Path(f"{prefix}.list.{name}"), escape)
        got = {(r.inode, r.path) for r in records}
        wanted = {(e["inode"], e["path"]) for e in entries if selects(e)}
        assert got == wanted, (name, sorted(got ^ wanted)[:5])
        assert len(records) == len(got)
        assert {r.snapid for r in records} <= {snapid}
        if name == "esc":
            uid = {(e["inode"], e["path"]): str(e["uid"]).encode() for e in entries}
            assert all(r.show == uid[(r.inode, r.path)] for r in records)
        else:
            assert all(r.show == b"" for r in records)


def defer(mm, tmp_path: Path, text: str, name: str, *target: str):
    """``mmapplypolicy TARGET -P <text> -I defer -f tmp/NAME``: (the prefix, the result)."""
    pol = tmp_path / f"{name}.pol"
    pol.write_text(text)
    prefix = tmp_path / name
    result = mm("mmapplypolicy", *target, "-P", str(pol), "-I", "defer", "-f", str(prefix),
                "-s", str(tmp_path))
    assert result.returncode == 0, result.stderr
    return prefix, result


def test_lists_match_the_oracle(mm, tree: Path, tmp_path: Path):
    prefix, result = defer(mm, tmp_path, POLICY, "out", "mmfs1")
    root = os.fsencode(tree)
    entries = oracle_walk(root, root, "")
    check_lists(prefix, entries)
    regular = sum(1 for e in entries if e["reg"])
    assert f"[I] Directories scan: {regular} files," in result.stdout
    # every FILTER found something, so the comparison is not vacuous
    for name in FILTERS:
        assert Path(f"{prefix}.list.{name}").stat().st_size > 0, name


def test_directory_target_matches_the_oracle(mm, tree: Path, tmp_path: Path):
    target = tree / "proj"
    prefix, _ = defer(mm, tmp_path, POLICY, "sub", str(target))
    top = os.fsencode(target)
    check_lists(prefix, oracle_walk(top, top, "proj"))


@pytest.mark.parametrize("snapshot, base", [("snap1", ""), ("proj:psnap", "proj")])
def test_snapshot_matches_the_oracle(mm, tree: Path, tmp_path: Path, snapshot, base):
    prefix, _ = defer(mm, tmp_path, POLICY, "snap", "mmfs1", "-S", snapshot)
    name = snapshot.split(":")[-1]
    top = os.fsencode(tree / base / ".snapshots" / name) if base else \
        os.fsencode(tree / ".snapshots" / name)
    entries = oracle_walk(top, top, base, hide_root_snapshots=True)
    snap_id = 1 if name == "snap1" else 2
    check_lists(prefix, entries, snapid=snap_id)
    live = {e["path"] for e in oracle_walk(os.fsencode(tree), os.fsencode(tree), "")}
    assert not live & {e["path"] for e in entries}


# Rules whose WHERE clauses the scan can prefilter on (see applypolicy.prefilter): the
# lister builds rows only for files that may match, and the lists must not change.
PREFILTERED = {name: FILTERS[name] for name in ("big", "escp", "own")}
PREFILTERED["band"] = ("WHERE FILE_SIZE BETWEEN 1000 AND 3000 AND USER_ID <> 2000",
                       lambda e: e["reg"] and 1000 <= e["size"] <= 3000 and e["uid"] != 2000)
PREFILTERED_POLICY = """
RULE EXTERNAL LIST 'escp' EXEC '' ESCAPE '%/+@#'
RULE 'x1' LIST 'excl' EXCLUDE WHERE FILE_SIZE < 100
RULE 'x2' LIST 'excl' WHERE FILE_SIZE < 1500
""" + "".join(f"RULE '{name}' LIST '{name}' {where}\n"
              for name, (where, _) in PREFILTERED.items())


def test_prefiltered_lists_match_the_oracle(mm, tree: Path, tmp_path: Path):
    rules = [r for r in parse_policy(PREFILTERED_POLICY).rules if r.kind in SELECTING]
    assert prefilter.build(rules, EvalContext(), level=1) is not None
    prefix, result = defer(mm, tmp_path, PREFILTERED_POLICY, "pre", "mmfs1")
    root = os.fsencode(tree)
    entries = oracle_walk(root, root, "")
    wanted_excl = {(e["inode"], e["path"]) for e in entries
                   if e["reg"] and 100 <= e["size"] < 1500}
    assert {(r.inode, r.path) for r in read_list(Path(f"{prefix}.list.excl"), None)} == \
        wanted_excl
    for name, (_, selects) in PREFILTERED.items():
        got = {(r.inode, r.path) for r in read_list(Path(f"{prefix}.list.{name}"),
                                                    ESCAPES.get(name))}
        wanted = {(e["inode"], e["path"]) for e in entries if selects(e)}
        assert got == wanted, (name, sorted(got ^ wanted)[:5])
        assert got, name
    regular = sum(1 for e in entries if e["reg"])
    assert f"[I] Directories scan: {regular} files," in result.stdout
