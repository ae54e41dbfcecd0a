"""Policies: mmchpolicy, mmlspolicy and mmapplypolicy.

``mmchpolicy`` validates a policy file with the policy language parser (errors give the line
and column) and installs it: the text as written, its name (``-t``, else the file name as
given), who installed it (``user@node``) and when. Only the placement rules (SET POOL) take
effect at placement (see ``placement``); the management rules are stored with them and are
what ``mmapplypolicy`` runs when it gets no ``-P``. ``DEFAULT`` removes the installed policy:
the file system then places data as if ``SET POOL '<first non-system data pool>'`` (or
``system``) were installed, and ``mmlspolicy`` says no policy is installed.

``mmlspolicy -Y`` (the product's header is not documented) prints one table::

    mmlspolicy::HEADER:version:reserved:reserved:deviceName:policyName:installedBy:
        installedNode:installTime:installTimeEpoch:firstLine:

with ``-L`` a second table holding the whole text, one row per line::

    mmlspolicy:policyLine:HEADER:version:reserved:reserved:deviceName:lineNumber:text:

Values are percent-encoded as every -Y field; with no policy installed only the headers are
printed.

``mmapplypolicy`` lives in the ``applypolicy`` package.
"""

from __future__ import annotations

import os
import pwd
import time
from pathlib import Path
from typing import Any

from gpfskit.emulator import applypolicy, fileattrs, layout
from gpfskit.emulator.applypolicy import checks
from gpfskit.emulator.args import Parsed
from gpfskit.emulator.dispatch import Invocation, command
from gpfskit.emulator.output import ctime, ytable
from gpfskit.language import PolicySyntaxError, RuleKind

DEFAULT = "DEFAULT"


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@command("mmchpolicy", "mmchpolicy Device PolicyFilename [-t DescriptiveName] [-I {yes | test}]",
         valued=("-t", "-I"), min_operands=2, max_operands=2, changing=True)
def mmchpolicy(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    filename = args.operands[1]
    mode = args.get("-I") or "yes"
    if mode not in ("yes", "test"):
        raise inv.fail(f"Incorrect value for the -I option: {mode}. Valid values are: yes, "
                       "test.", 22)
    title = args.get("-t")
    if title is not None and (not title or "\n" in title or len(title) > 255):
        raise inv.fail("Incorrect value for the -t option: a descriptive name has 1 to 255 "
                       "characters on one line.", 22)
    if filename == DEFAULT:
        inv.say(f"Validated policy '{DEFAULT}': the default placement.")
        if mode == "yes":
            _record_placement(inv, fs, "")
            inv.db.execute("DELETE FROM policies WHERE fs = ?", (fs["name"],))
            inv.say(f"Policy '{DEFAULT}' installed on file system {fs['name']}: data is placed "
                    "by the default rule.")
        return
    try:
        with open(filename, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as exc:
        raise inv.fail(f"[E] Cannot open policy file {filename}: {exc.strerror}.", 2) from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise inv.fail(f"[E] Policy file {filename} is not valid UTF-8 text.", 22) from None
    try:
        policy = checks.parse(text)
    except PolicySyntaxError as exc:
        raise inv.fail(checks.syntax_message(exc, text, filename), 22) from None
    pools, data_pools = checks.pools_of(inv.db, fs["name"])
    found = checks.problems(policy, fs["name"], pools, data_pools)
    if found:
        raise inv.fail("\n".join(found), 22)
    placement_rules = sum(1 for r in policy.rules if r.kind.is_placement)
    management = sum(1 for r in policy.rules if r.kind.selects_files)
    other = sum(1 for r in policy.rules if r.kind in (
        RuleKind.EXTERNAL_LIST, RuleKind.EXTERNAL_POOL, RuleKind.GROUP_POOL))
    name = title or filename
    inv.say(f"Validated policy '{name}': {_plural(placement_rules, 'placement rule')}, "
            f"{_plural(management, 'management rule')}, "
            f"{_plural(other, 'external or group pool rule')}.")
    if mode == "test":
        return
    _record_placement(inv, fs, text)
    inv.db.execute(
        "INSERT INTO policies (fs, text, name, installed_by, installed_node, installed_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fs) DO UPDATE SET text = excluded.text, "
        "name = excluded.name, installed_by = excluded.installed_by, "
        "installed_node = excluded.installed_node, installed_at = excluded.installed_at",
        (fs["name"], text, name, _user(), inv.node, time.time()))
    inv.say(f"Policy '{name}' installed on file system {fs['name']}.")


def _record_placement(inv: Invocation, fs_row: Any, text: str) -> None:
    """Keep the placement being replaced for the files made under it: placement happens
    when a file is created (``placement.load`` reads the history)."""
    fs = fs_row["name"]
    if inv.db.execute("SELECT 1 FROM placement_history WHERE fs = ? LIMIT 1",
                      (fs,)).fetchone() is None:
        row = inv.db.execute("SELECT text FROM policies WHERE fs = ?", (fs,)).fetchone()
        inv.db.execute("INSERT INTO placement_history VALUES (?, 0, ?)",
                       (fs, row["text"] if row is not None else ""))
    inv.db.execute("INSERT INTO placement_history VALUES (?, ?, ?)",
                   (fs, _file_clock(layout.tree(inv.root, fs_row)), text))


def _file_clock(tree: Path) -> float:
    """Now, on the clock that stamps the birth times of files in ``tree`` (it can lag
    ``time.time()`` by several milliseconds): the birth time of a file made and removed."""
    marker = tree / f".gpfskit-placement-{os.getpid()}-{time.monotonic_ns()}"
    try:
        marker.touch(exist_ok=False)
        try:
            return fileattrs.creation_time(marker)
        finally:
            marker.unlink()
    except OSError:
        return time.time()


_LS_COLUMNS = ["deviceName", "policyName", "installedBy", "installedNode", "installTime",
               "installTimeEpoch", "firstLine"]
_LINE_COLUMNS = ["deviceName", "lineNumber", "text"]


@command("mmlspolicy", "mmlspolicy Device [-L] [-Y]", flags=("-L", "-Y"), min_operands=1,
         max_operands=1)
def mmlspolicy(inv: Invocation, args: Parsed) -> None:
    fs = inv.filesystem(args.operands[0])
    row = inv.db.execute("SELECT * FROM policies WHERE fs = ?", (fs["name"],)).fetchone()
    lines = row["text"].splitlines() if row is not None else []
    first = lines[0] if lines else ""
    if args.has("-Y"):
        rows = [] if row is None else [[
            fs["name"], row["name"], row["installed_by"], row["installed_node"],
            ctime(row["installed_at"]), int(row["installed_at"]), first]]
        inv.out.write(ytable("mmlspolicy", "", _LS_COLUMNS, rows))
        if args.has("-L"):
            inv.out.write(ytable("mmlspolicy", "policyLine", _LINE_COLUMNS,
                                 [[fs["name"], n, line] for n, line in enumerate(lines, 1)]))
        return
    if row is None:
        inv.say(f"No policy file was installed for file system '{fs['name']}'.")
        return
    if args.has("-L"):
        inv.out.write(row["text"] if row["text"].endswith("\n") or not row["text"]
                      else row["text"] + "\n")
        return
    inv.say(f"Policy for file system '/dev/{fs['name']}':")
    inv.say(f"   Installed by {row['installed_by']}@{row['installed_node']} on "
            f"{ctime(row['installed_at'])}.")
    inv.say(f"   First line of policy '{row['name']}' is:")
    inv.say(first)


@command("mmapplypolicy", applypolicy.USAGE, flags=applypolicy.FLAGS, valued=applypolicy.VALUED,
         min_operands=1, max_operands=1)
def mmapplypolicy(inv: Invocation, args: Parsed) -> None:
    applypolicy.run(inv, args)
