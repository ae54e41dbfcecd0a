"""Quota commands: limits in the database, usage counted from the real files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gpfskit.commands import yformat
from gpfskit.emulator import state
from gpfskit.emulator.commands.quotas import parse_block, parse_grace
from gpfskit.emulator.quota_ledger import format_period
from helpers import assert_refused_unchanged, needs_root, ok

Y_HEADER = ("mmrepquota::HEADER:version:reserved:reserved:filesystemName:quotaType:id:name:"
            "blockUsage:blockQuota:blockLimit:blockInDoubt:blockGrace:filesUsage:filesQuota:"
            "filesLimit:filesInDoubt:filesGrace:remarks:quota:defQuota:fid:filesetname:")
UID, GID = 54321, 65432          # ids no test machine resolves to names


def report(mm, *argv) -> dict[tuple[str, str], dict]:
    rows = yformat.parse_table(ok(mm("mmrepquota", "-Y", *argv)).stdout)
    return {(r["quotaType"], r["name"] if r["quotaType"] == "FILESET" else
             r["id"] + (":" + r["filesetname"] if r["filesetname"] else "")): r for r in rows}


def kb_of(*paths: Path) -> int:
    return sum(os.lstat(p).st_blocks for p in paths) // 2


def write(path: Path, size: int, uid: int = 0, gid: int = 0) -> Path:
    path.write_bytes(b"q" * size)
    if uid or gid:
        os.chown(path, uid, gid)
    return path


def fileset(mm, mp: Path, name: str, *options: str) -> Path:
    ok(mm("mmcrfileset", "mmfs1", name, *options, "-J", str(mp / name)))
    return mp / name


def refused(mm, argv, message: str, rc: int):
    assert_refused_unchanged(mm, argv, rc, message,
                             lambda: mm("mmrepquota", "-Y", "mmfs1").stdout)


def test_parsers():
    assert parse_block("10G") == 10 * 1024 * 1024
    assert parse_block("10g") == parse_block("10240M") == parse_block("10485760K")
    assert parse_block("1T") == 1024 ** 3 and parse_block("1p") == 1024 ** 4
    assert parse_block("1") == 1 and parse_block("1025") == 2 and parse_block("0") == 0
    assert parse_block("1.5K") == 2
    assert parse_grace("7days") == parse_grace("7 days") == 7 * 86400
    assert parse_grace("2hours") == 7200 and parse_grace("90") == 90
    assert format_period(7 * 86400) == "7 days" and format_period(86400 * 6.5) == "7 days"
    assert format_period(7 * 86400 - 0.5) == "7 days" and format_period(86399) == "1 day"
    assert format_period(3600) == "1 hour" and format_period(61) == "2 minutes"
    assert format_period(5) == "5 seconds"


def test_fileset_usage_matches_the_files(mm, mp):
    junction = fileset(mm, mp, "proj")
    (junction / "sub").mkdir()
    files = [write(junction / "a", 10_000), write(junction / "sub" / "b", 123_456),
             write(junction / "c", 0)]
    (junction / ".snapshots").mkdir()              # not a snapshot dir: dependent fileset
    write(junction / ".snapshots" / "d", 4096)
    row = report(mm, "-j", "mmfs1")[("FILESET", "proj")]
    paths = [junction, junction / "sub", *files, junction / ".snapshots",
             junction / ".snapshots" / "d"]
    assert row["blockUsage"] == str(kb_of(*paths))
    assert row["filesUsage"] == str(len(paths))
    assert (row["id"], row["remarks"], row["blockGrace"], row["quota"], row["defQuota"]) == (
        "1", "i", "none", "on", "off")
    root = report(mm, "-j", "mmfs1")[("FILESET", "root")]
    assert root["filesUsage"] == "1"               # the fs root directory; proj is apart


@needs_root
def test_user_and_group_usage_include_unlinked_filesets(mm, mp):
    junction = fileset(mm, mp, "owned")
    f1 = write(junction / "f1", 50_000, UID, GID)
    f2 = write(mp / "f2", 7_000, UID, 0)
    users = report(mm, "-u", "mmfs1")
    assert users[("USR", str(UID))]["blockUsage"] == str(kb_of(f1, f2))
    assert users[("USR", str(UID))]["filesUsage"] == "2"
    assert users[("USR", str(UID))]["name"] == str(UID)     # unknown to pwd: numeric
    assert users[("USR", "0")]["name"] == "root"
    groups = report(mm, "-g", "mmfs1")
    assert groups[("GRP", str(GID))]["blockUsage"] == str(kb_of(f1))
    ok(mm("mmunlinkfileset", "mmfs1", "owned"))
    assert report(mm, "-u", "mmfs1")[("USR", str(UID))]["filesUsage"] == "2"
    assert ("USR", "0") in report(mm, "-u", "-n", "mmfs1")
    assert report(mm, "-n", "mmfs1")[("USR", "0")]["name"] == "0"


def test_rows_in_order_with_report_line(mm, mp):
    fileset(mm, mp, "f1")
    write(mp / "x", 10, UID, GID)
    out = ok(mm("mmrepquota", "mmfs1", "-Y")).stdout.splitlines()
    assert out[0] == "*** Report for USR GRP FILESET quotas on mmfs1"
    assert out[1] == Y_HEADER
    kinds = [line.split(":")[7] for line in out[2:]]
    assert kinds == sorted(kinds, key=["USR", "GRP", "FILESET"].index)
    assert kinds.count("FILESET") == 2


def test_all_filesystems_repeat_the_header(mm):
    out = ok(mm("mmrepquota", "-a", "-Y")).stdout.splitlines()
    assert [line for line in out if line.startswith("***")] == [
        "*** Report for USR GRP FILESET quotas on mmfs1",
        "*** Report for USR GRP FILESET quotas on mmfs2"]
    assert out.count(Y_HEADER) == 2
    rows = yformat.parse_table("\n".join(out))
    assert {r["filesystemName"] for r in rows} == {"mmfs1", "mmfs2"}


def test_set_fileset_quota(mm, mp):
    fileset(mm, mp, "fset1")
    assert ok(mm("mmsetquota", "mmfs1:fset1", "--block", "10G:12G", "--files",
                 "1000000:1200000")).stdout == ""
    row = report(mm, "-j", "mmfs1")[("FILESET", "fset1")]
    assert (row["blockQuota"], row["blockLimit"]) == (str(10 * 1024 ** 2), str(12 * 1024 ** 2))
    assert (row["filesQuota"], row["filesLimit"], row["remarks"]) == ("1000000", "1200000", "e")
    ok(mm("mmsetquota", "mmfs1:fset1", "--block", "0:10G"))      # files unchanged
    row = report(mm, "-j", "mmfs1")[("FILESET", "fset1")]
    assert (row["blockQuota"], row["blockLimit"], row["filesQuota"]) == (
        "0", str(10 * 1024 ** 2), "1000000")
    ok(mm("mmsetquota", "mmfs1:fset1", "--block", "5000"))         # bytes, no hard limit
    row = report(mm, "-j", "mmfs1")[("FILESET", "fset1")]
    assert (row["blockQuota"], row["blockLimit"]) == ("5", "0")
    ok(mm("mmsetquota", "mmfs1:fset1", "--block", "0:0", "--files", "0:0"))
    assert report(mm, "-j", "mmfs1")[("FILESET", "fset1")]["remarks"] == "i"


def test_set_user_and_group_quota(mm):
    ok(mm("mmsetquota", "mmfs1", "--user", f"root,{UID}", "--block", "1M:2M"))
    ok(mm("mmsetquota", "mmfs1", "--group", "root", "--files", "100:200"))
    users = report(mm, "-u", "mmfs1")
    assert users[("USR", str(UID))]["blockQuota"] == "1024"
    assert users[("USR", str(UID))]["remarks"] == "e" and users[("USR", "0")]["remarks"] == "e"
    assert report(mm, "-g", "mmfs1")[("GRP", "0")]["filesLimit"] == "200"


def test_set_refusals(mm, mp):
    fileset(mm, mp, "f")
    refused(mm, ["mmsetquota", "mmfs1:f", "--block", "2G:1G"],
            "The soft limit (2G) is greater than the hard limit (1G)", 22)
    refused(mm, ["mmsetquota", "mmfs1:f", "--files", "10:5"], "greater than the hard limit",
            22)
    refused(mm, ["mmsetquota", "mmfs1:f", "--block", "lots"], "Incorrect value for --block",
            22)
    refused(mm, ["mmsetquota", "mmfs1:f", "--block", "1000000000000P"], "exceeds the maximum",
            22)
    refused(mm, ["mmsetquota", "mmfs1:nosuch", "--block", "1G"],
            "Fileset named nosuch does not exist.", 2)
    refused(mm, ["mmsetquota", "mmfs1", "--user", "no-such-user-xyz", "--block", "1G"],
            "Incorrect user name or ID: no-such-user-xyz", 22)
    refused(mm, ["mmsetquota", "mmfs1:f", "--user", "root", "--block", "1G"],
            "Per-fileset quotas are not enabled on file system mmfs1", 1)
    refused(mm, ["mmsetquota", "nofs:f", "--block", "1G"], "is not known", 2)
    ok(mm("mmsetquota", "mmfs1:f", "--block", "1G:2G"))
    refused(mm, ["mmsetquota", "mmfs1:f", "--block", "3G:2.5G"], "greater than the hard", 22)
    usage = mm("mmsetquota", "mmfs1")
    assert usage.returncode == 1 and "Usage:" in usage.stderr


def test_grace_starts_when_usage_goes_over(mm, mp, emulator_root):
    junction = fileset(mm, mp, "g")
    write(junction / "big", 200_000)
    write(junction / "small", 1)
    ok(mm("mmsetquota", "mmfs1:g", "--block", "100K", "--files", "1"))
    row = report(mm, "-j", "mmfs1")[("FILESET", "g")]
    assert (row["blockGrace"], row["filesGrace"]) == ("7 days", "7 days")
    ok(mm("mmsetquota", "mmfs1", "--grace", "fileset", "--block", "1days"))
    assert report(mm, "-j", "mmfs1")[("FILESET", "g")]["blockGrace"] == "1 day"
    db = state.connection(emulator_root)
    since = db.execute("SELECT block_over_since, files_over_since FROM quotas "
                       "WHERE type = 'FILESET'").fetchone()
    assert since[0] is not None and abs(since[0] - time.time()) < 60
    db.execute("UPDATE quotas SET block_over_since = block_over_since - 2 * 86400")
    row = report(mm, "-j", "mmfs1")[("FILESET", "g")]
    assert (row["blockGrace"], row["filesGrace"]) == ("expired", "7 days")
    (junction / "big").unlink()
    row = report(mm, "-j", "mmfs1")[("FILESET", "g")]
    assert (row["blockGrace"], row["filesGrace"]) == ("none", "7 days")
    assert db.execute("SELECT block_over_since FROM quotas WHERE type = 'FILESET'"
                      ).fetchone()[0] is None
    ok(mm("mmsetquota", "mmfs1:g", "--block", "100K:150K"))
    write(junction / "big", 200_000)
    assert report(mm, "-j", "mmfs1")[("FILESET", "g")]["blockGrace"] == "expired"


def test_default_quotas(mm, mp):
    fileset(mm, mp, "plain")
    fileset(mm, mp, "own")
    ok(mm("mmsetquota", "mmfs1:own", "--files", "10"))
    ok(mm("mmsetquota", "mmfs1", "--default", "fileset", "--block", "1G"))
    rows = report(mm, "-j", "mmfs1")
    assert (rows[("FILESET", "plain")]["remarks"], rows[("FILESET", "plain")]["blockQuota"]) == (
        "d_fsys", str(1024 ** 2))
    assert rows[("FILESET", "own")]["remarks"] == "e"
    assert rows[("FILESET", "own")]["defQuota"] == "on"
    ok(mm("mmsetquota", "mmfs1", "--default", "fileset", "--block", "0"))
    assert report(mm, "-j", "mmfs1")[("FILESET", "plain")]["remarks"] == "i"


@needs_root
def test_per_fileset_user_quotas(mm, mp):
    ok(mm("mmchfs", "mmfs1", "--perfileset-quota"))
    junction = fileset(mm, mp, "team")
    write(junction / "mine", 30_000, UID, GID)
    ok(mm("mmsetquota", "mmfs1:team", "--user", str(UID), "--block", "1G"))
    rows = report(mm, "-u", "mmfs1")
    row = rows[("USR", f"{UID}:team")]
    assert (row["fid"], row["blockQuota"], row["remarks"]) == ("1", str(1024 ** 2), "e")
    assert row["blockUsage"] == str(kb_of(junction / "mine"))
    assert rows[("USR", "0:root")]["fid"] == "0"
    scoped = report(mm, "-u", "mmfs1:team")
    assert set(scoped) == {("USR", f"{UID}:team"), ("USR", "0:team")}
    ok(mm("mmchfileset", "mmfs1", "team", "-j", "crew"))
    assert report(mm, "-u", "mmfs1")[("USR", f"{UID}:crew")]["remarks"] == "e"


def test_repquota_human_layout(mm, mp):
    fileset(mm, mp, "data1")
    ok(mm("mmsetquota", "mmfs1:data1", "--block", "1T:1T"))
    out = ok(mm("mmrepquota", "mmfs1")).stdout.splitlines()
    assert out[0] == "*** Report for USR GRP FILESET  quotas on mmfs1"
    assert out[1] == ("        Block Limits                                    |"
                      "                     File Limits")
    assert out[2] == ("Name       type             KB      quota      limit   in_doubt    grace |"
                      "    files   quota    limit in_doubt    grace entryType")
    data1 = next(line for line in out if line.startswith("data1"))
    assert data1.startswith("data1      FILESET ")
    assert data1[31:52] == "1073741824 1073741824"
    assert data1[73] == "|" and data1.endswith(" none e")


def test_lsquota(mm, mp):
    fileset(mm, mp, "fset1")
    ok(mm("mmsetquota", "mmfs1:fset1", "--block", "10G:12G", "--files", "1000000:1200000"))
    out = ok(mm("mmlsquota", "-j", "fset1", "-Y", "mmfs1")).stdout.splitlines()
    assert out[0] == Y_HEADER.replace("mmrepquota", "mmlsquota")
    row = yformat.parse_table("\n".join(out))[0]
    assert (row["quotaType"], row["name"], row["blockLimit"], row["remarks"]) == (
        "FILESET", "fset1", str(12 * 1024 ** 2), "e")
    human = ok(mm("mmlsquota", "-j", "fset1", "mmfs1")).stdout.splitlines()
    assert human[0] == "Block Limits                                    |     File Limits"
    assert human[1] == ("Filesystem type             KB      quota      limit   in_doubt    "
                        "grace |    files   quota    limit in_doubt    grace  Remarks")
    assert human[2].startswith("mmfs1      FILESET ") and human[2][73] == "|"
    mine = ok(mm("mmlsquota")).stdout.splitlines()
    assert mine[0] == "Disk quotas for user root (uid 0):"
    assert mine[3].startswith("mmfs1      USR ") and mine[4].startswith("mmfs2      USR ")
    user = yformat.parse_table(ok(mm("mmlsquota", "-u", str(UID), "-Y", "mmfs1")).stdout)
    assert (user[0]["id"], user[0]["blockUsage"], user[0]["remarks"]) == (str(UID), "0", "i")
    group = yformat.parse_table(ok(mm("mmlsquota", "-g", "root", "-Y", "mmfs2")).stdout)
    assert group[0]["quotaType"] == "GRP" and group[0]["filesystemName"] == "mmfs2"


def test_lsquota_refusals(mm):
    result = mm("mmlsquota", "-j", "nosuch", "mmfs1")
    assert result.returncode == 2 and "Fileset named nosuch does not exist." in result.stderr
    result = mm("mmlsquota", "-u", "no-such-user-xyz", "mmfs1")
    assert result.returncode == 22 and "Incorrect user name or ID" in result.stderr
    result = mm("mmrepquota", "mmfs1:nosuch")
    assert result.returncode == 2


def test_deleting_a_fileset_drops_its_quota(mm, mp):
    fileset(mm, mp, "tmp")
    ok(mm("mmsetquota", "mmfs1:tmp", "--block", "1G"))
    ok(mm("mmunlinkfileset", "mmfs1", "tmp"))
    ok(mm("mmdelfileset", "mmfs1", "tmp"))
    ok(mm("mmcrfileset", "mmfs1", "tmp2"))                      # reuses id 1
    assert report(mm, "-j", "mmfs1")[("FILESET", "tmp2")]["remarks"] == "i"
