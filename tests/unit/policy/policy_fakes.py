"""Test doubles for the policy tests: records, file lists and a stand-in ``mmapplypolicy``.

``FakeApplyPolicy`` replaces ``gpfskit.commands.run`` for ``mmapplypolicy`` argv lists. It
follows the product's EXTERNAL LIST protocol over a given set of file records: it evaluates
each LIST rule's WHERE and SHOW with the policy language's reference evaluator, writes
buckets of at most ``-B`` records in the file-list format, and runs the EXEC script as a real
subprocess (``TEST <target> <opts>``, then ``LIST <bucket> <opts>``, up to ``-m`` at once).
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gpfskit.commands import CommandResult, GPFSExecuteException
from gpfskit.language import EvalContext, RuleKind, parse_policy, rule_matches, show_text

NOW = 1_700_000_000.0


def make_records(n: int, *, users: tuple[int, ...] = (1000, 1001, 1002), start_inode: int = 100,
                 root: str = "/gpfs/mmfs1") -> list[dict[str, Any]]:
    """``n`` file records with every attribute the default SHOW needs."""
    records = []
    for i in range(n):
        name = f"file {i:05d}.dat" if i % 7 == 0 else f"f{i:05d}.dat"
        records.append({
            "INODE": start_inode + (i * 7919) % (n * 3 + 1),
            "GENERATION": 1000 + i,
            "PATH_NAME": f"{root}/dir{i % 5}/{name}",
            "NAME": name,
            "FILE_SIZE": (i * 4099) % 100_000,
            "KB_ALLOCATED": ((i * 4099) % 100_000 + 1023) // 1024,
            "USER_ID": users[i % len(users)],
            "GROUP_ID": 100 + i % 2,
            "MODE": "-rw-r--r--",
            "NLINK": 1,
            "ACCESS_TIME": NOW - 86400 * (i % 50),
            "MODIFICATION_TIME": NOW - 86400 * (i % 90) - 0.25,
            "CHANGE_TIME": NOW - 3600,
            "CREATION_TIME": NOW - 86400 * 100,
            "POOL_NAME": "system" if i % 3 else "sas1",
            "FILESET_NAME": "root",
            "MISC_ATTRIBUTES": "F",
            "BLOCKSIZE": 4096,
            "DEVICE_ID": 64769,
            "RDEVICE_ID": 0,
            "MODIFICATION_SNAPID": 0,
        })
    return records


def escape_path(path: str) -> str:
    return path.replace("\\", "\\\\").replace("\n", "\\n")


def record_line(record: dict[str, Any], show: str | None) -> str:
    return (f"{record['INODE']} {record['GENERATION']} 0  {show or ''} -- "
            f"{escape_path(record['PATH_NAME'])}\n")


def selected(policy_text: str, list_name: str, records: list[dict[str, Any]],
             ) -> list[tuple[dict[str, Any], str | None]]:
    """(record, SHOW text) of each record the LIST rules of ``list_name`` select."""
    ctx = EvalContext(NOW)
    out = []
    rules = [r for r in parse_policy(policy_text) if r.kind is RuleKind.LIST
             and r.list_name == list_name]
    for record in records:
        for rule in rules:
            if rule_matches(rule, record, ctx):
                out.append((record, show_text(rule, record, ctx)))
                break
    return out


def write_lists(directory: str, policy_text: str, list_name: str,
                records: list[dict[str, Any]], bucket: int) -> list[str]:
    """The buckets of ``list_name`` as file-list files; returns their paths."""
    rows = selected(policy_text, list_name, records)
    paths = []
    for number, start in enumerate(range(0, len(rows), bucket)):
        path = os.path.join(directory, f"list.{list_name}.{number}")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as out:
            for record, show in rows[start:start + bucket]:
                out.write(record_line(record, show))
        paths.append(path)
    return paths


def _option(argv: list[str], flag: str, default: str | None = None) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else default


class FakeApplyPolicy:
    """Callable standing in for ``gpfskit.commands.run`` (see the module docstring)."""

    def __init__(self, records: list[dict[str, Any]], summary: str = "") -> None:
        self.records = records
        self.summary = summary
        self.calls: list[list[str]] = []
        self.policies: list[str] = []
        self.script_runs: list[list[str]] = []
        self.workdir_listing: list[str] = []

    def __call__(self, argv, *, check: bool = True, timeout: float | None = None,
                 backend: Any = None) -> CommandResult:
        argv = list(argv)
        self.calls.append(argv)
        assert argv[0] == "mmapplypolicy", argv
        with open(_option(argv, "-P"), encoding="utf-8") as handle:
            text = handle.read()
        self.policies.append(text)
        workdir = _option(argv, "-g")
        self.workdir_listing = sorted(os.listdir(workdir))
        action = _option(argv, "-I", "yes")
        bucket = int(_option(argv, "-B", "100"))
        threads = int(_option(argv, "-m", "4"))
        target = argv[1]
        stderr = []
        rc = 0
        if action == "yes":
            local = _option(argv, "-s")
            for rule in parse_policy(text):
                if rule.kind is not RuleKind.EXTERNAL_LIST or not rule.exec_:
                    continue
                opts = [rule.opts] if rule.opts is not None else []
                test = subprocess.run([rule.exec_, "TEST", target, *opts], check=False,
                                      capture_output=True, text=True)
                self.script_runs.append([rule.exec_, "TEST", target, *opts])
                if test.returncode:
                    rc = 1
                    stderr.append(test.stderr)
                    continue
                lists = write_lists(local, text, rule.list_name, self.records, bucket)

                def call(path: str, rule=rule, opts=opts) -> subprocess.CompletedProcess:
                    argv_ = [rule.exec_, "LIST", path, *opts]
                    self.script_runs.append(argv_)
                    return subprocess.run(argv_, check=False, capture_output=True, text=True)

                with ThreadPoolExecutor(threads) as pool:
                    for done in pool.map(call, lists):
                        if done.returncode:
                            rc = 1
                            stderr.append(done.stderr)
                for path in lists:
                    os.unlink(path)
        result = CommandResult(tuple(argv), rc, self.summary, "".join(stderr), 0.0)
        if check and rc:
            raise GPFSExecuteException(argv, rc, self.summary, "".join(stderr))
        return result


def group_counts(records: list[dict[str, Any]], key: str) -> dict[Any, int]:
    counts: dict[Any, int] = defaultdict(int)
    for record in records:
        counts[record[key]] += 1
    return dict(counts)
