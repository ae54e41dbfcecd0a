"""ManagementPolicy: rules applied to a file system or directory with ``mmapplypolicy``.

    p = ManagementPolicy()
    p.rules.new(ListProcessingRule, 'user_counts', listFilesPerUser)
    print(p.run('mmfs1')['user_counts'])

``run(target, action='yes', nodes=None, threads=None, ...)`` writes the policy into a fresh
work directory (see :mod:`gpfskit.policy.target`), runs::

    mmapplypolicy <target> -P <work dir>/policy.pol -I <action> [-N nodes] [-m threads]
                  [-B files per bucket] [--qos class] -g <work dir> -s <work dir>/tmp

through the command runner, and returns ``{list name / rule name: result}`` for the
processing rules (:mod:`gpfskit.policy.processing`). The work directory is removed
afterwards, also when something failed. A processing function that raised makes ``run()``
raise :class:`~gpfskit.policy.errors.PolicyProcessingError` carrying its traceback.

``action='test'`` only evaluates (the runner runs it even in dry run, it changes nothing);
``'defer'`` chooses files without acting. With either, and in dry run (where the runner
records the command instead of running it), no driver runs and every processing rule
returns its empty result (the processor called on no files, the map-reduce of nothing).
With ``'test'`` every other file-selecting rule (DELETE, MIGRATE, ...) gets the row that
``mmapplypolicy -I test`` prints for it, as ``summary()`` gives them: ``{'hit_cnt',
'kb_hit', 'chosen', 'kb_chosen', 'kb_ill', 'rule', ...}`` under the rule's id.

In dry run the policy file is not written into the work directory (which is removed) but
kept as ``<work base>/dryrun-<time>-XXXX.pol`` (``<mount point>/.policytmp`` by default),
so the recorded ``mmapplypolicy -P`` line names a file that can be read or run later.

The rules never see the run's own work files: when the work directory lies inside the
scanned tree, every MIGRATE, DELETE and LIST rule gets ``AND PATH_NAME NOT LIKE
'<work base>/%'`` in the policy file that is run (the rule objects are not changed).

``summary(target, nodes='all', qos='maintenance')`` runs in test mode with ``-L 1`` and
returns ``{'applicability': {rule id: {'hit_cnt', 'kb_hit', 'chosen', 'kb_chosen',
'kb_ill', 'rule', ...}}, 'output': <mmapplypolicy's output>}`` (values as printed).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

from gpfskit.api.base import node_args
from gpfskit.commands import GPFSExecuteException, getDryRun, run
from gpfskit.config import config
from gpfskit.language import (
    Attribute,
    Binary,
    Like,
    Literal,
    PolicySyntaxError,
    RuleKind,
    format_policy,
    parse_policy,
)
from gpfskit.language import Rule as SyntaxRule
from gpfskit.policy import summary as summary_table
from gpfskit.policy.errors import PolicyError, PolicyProcessingError
from gpfskit.policy.processing import ProcessingRule
from gpfskit.policy.rule import Rule
from gpfskit.policy.rules import Rules
from gpfskit.policy.target import Target, resolve, work_base
from gpfskit.policy.workspace import DEFAULT_BUCKET_SIZE, Workspace

ACTIONS = ("yes", "defer", "test")
_GUARDED = (RuleKind.MIGRATE, RuleKind.DELETE, RuleKind.LIST)


def load_rules(text: str, source: str = "policy") -> list[Rule]:
    """Rule objects for policy text."""
    try:
        policy = parse_policy(text)
    except PolicySyntaxError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    return [Rule.from_ast(node) for node in policy]


def _like_prefix(directory: str) -> Like:
    """``PATH_NAME NOT LIKE '<directory>/%' ESCAPE '\\'``."""
    pattern = "".join("\\" + c if c in "%_\\" else c for c in directory.rstrip("/"))
    return Like(Attribute("PATH_NAME"), Literal(pattern + "/%"), Literal("\\"), negated=True)


def _inside(path: str, root: str | None) -> bool:
    if root is None:
        return False
    path, root = os.path.abspath(path), os.path.abspath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


class ManagementPolicy:
    """See the module docstring."""

    def __init__(self, path_to_policy_file: str | None = None) -> None:
        self.rules = Rules()
        self.last_output: str | None = None
        self.path: str | None = None     # the file the policy was read from; save() writes it
        if path_to_policy_file is not None:
            self.load(path_to_policy_file)

    # -- policy text ------------------------------------------------------------------------
    def load(self, path: str) -> None:
        """Replace the rules with those of a policy file (remembered for ``save()``)."""
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        self.rules = Rules(load_rules(text, path))
        self.path = os.path.abspath(path)

    def syntax_rules(self) -> list[SyntaxRule]:
        """The policy as syntax-tree rules (processing rules with ``EXEC ''``)."""
        return self._compile(None, None)[0]

    def __str__(self) -> str:
        return format_policy(self.syntax_rules())

    def save(self, path: str | None = None) -> None:
        """Write the policy text to ``path``, by default to the file it was read from, every
        rule in order (processing rules' functions are not saved: their lists are written
        with ``EXEC ''``)."""
        path = path if path is not None else self.path
        if path is None:
            raise PolicyError("save() needs a path: this policy was not read from a file")
        text = str(self)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    def _compile(self, workspace: Workspace | None, guard: str | None,
                 ) -> tuple[list[SyntaxRule], list[str | None]]:
        """(policy rules, rule id per policy rule) with externals first."""
        externals: list[SyntaxRule] = []
        body: list[SyntaxRule] = []
        ids: list[str | None] = []
        for rule in self.rules.values():
            if isinstance(rule, ProcessingRule):
                externals.append(rule.external(workspace))
            node = rule.to_ast()
            if guard is not None and node.kind in _GUARDED and not node.exclude:
                where = _like_prefix(guard)
                if node.where is not None:
                    where = Binary("AND", node.where, where)
                node = dataclasses.replace(node, where=where)
            body.append(node)
            ids.append(rule.id)
        return externals + body, [None] * len(externals) + ids

    # -- running ----------------------------------------------------------------------------
    def _processing(self) -> list[ProcessingRule]:
        return [r for r in self.rules.values() if isinstance(r, ProcessingRule)]

    def _command(self, target: Target, workspace: Workspace, action: str, nodes: Any,
                 threads: Any, max_files: Any, qos: Any, level: int | None,
                 policy_file: str) -> list[str]:
        argv = ["mmapplypolicy", target.argument, "-P", policy_file, "-I", action]
        argv += node_args(nodes, all_flag=False)
        if threads is not None:
            argv += ["-m", str(int(threads))]
        if max_files is None and action == "yes" and self._processing():
            max_files = DEFAULT_BUCKET_SIZE
        if max_files is not None:
            argv += ["-B", str(int(max_files))]
        if level is not None:
            argv += ["-L", str(level)]
        if qos is not None:
            argv += ["--qos", str(qos)]
        argv += ["-g", workspace.path, "-s", workspace.local_dir]
        return argv

    def _execute(self, target: Any, action: str, nodes: Any = None, threads: Any = None,
                 maxFiles: Any = None, qos: Any = None, timeout: float | None = None,
                 level: int | None = None, collect: bool = True,
                 ) -> tuple[Any, dict[str, Any], list[str | None]]:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        where = resolve(target)
        for rule in self.rules.values():
            rule.check()                # before any command runs
        if timeout is None:
            timeout = float(config["gpfskit.commands.timeout"])
        workspace = Workspace.create(work_base(where))
        try:
            base = os.path.dirname(workspace.path)
            guard = base if _inside(base, where.scanned_root) or (
                where.scanned_root and _inside(where.scanned_root, base)) else None
            rules, ids = self._compile(workspace, guard)
            policy_file = (_kept_policy_file(base) if action != "test" and getDryRun()
                           else workspace.policy_file)
            with open(policy_file, "w", encoding="utf-8") as handle:
                handle.write(format_policy(rules))
            processing = self._processing()
            for rule in processing:
                rule.prepare(workspace, timeout)
            argv = self._command(where, workspace, action, nodes, threads, maxFiles, qos,
                                 level, policy_file)
            try:
                result = run(argv, timeout=timeout)
            except GPFSExecuteException as exc:
                self.last_output = exc.stdout
                self._raise_problems(workspace, processing, exc)
                raise
            self.last_output = result.stdout
            self._raise_problems(workspace, processing, None)
            results: dict[str, Any] = {}
            if collect:
                ran = not result.recorded and action == "yes"
                for rule in processing:
                    results[rule.key] = rule.finish(workspace) if ran else rule.empty_result()
                if action == "test" and not result.recorded:
                    keys = {rule.key for rule in processing}
                    results.update((rule_id, row) for rule_id, row in
                                   self._applicability(result.stdout, ids).items()
                                   if rule_id not in keys)
            return result, results, ids
        finally:
            workspace.cleanup()

    @staticmethod
    def _raise_problems(workspace: Workspace, processing: list[ProcessingRule],
                        cause: Exception | None) -> None:
        for rule in processing:
            problems = workspace.problems(rule.id)
            if problems:
                message, details = problems[0]
                if len(problems) > 1:
                    details += f"\n({len(problems) - 1} more bucket(s) failed as well)"
                raise PolicyProcessingError(rule.id, message, details) from cause

    def run(self, target: Any, action: str = "yes", nodes: Any = None, threads: Any = None,
            maxFiles: int | None = None, qos: str | None = None,
            timeout: float | None = None) -> dict[str, Any]:
        """Apply the policy to ``target``; returns each processing rule's result.

        ``nodes`` (-N: names, a node class or 'all'), ``threads`` (-m: parallel drivers per
        node), ``maxFiles`` (-B: files per driver call; default 100,000 when the policy has
        processing rules), ``qos`` (--qos), ``timeout`` (seconds for the whole command and
        for each driver; default the directive ``gpfskit.commands.timeout``).
        """
        return self._execute(target, action, nodes, threads, maxFiles, qos, timeout)[1]

    def summary(self, target: Any, nodes: Any = "all", qos: str | None = "maintenance",
                threads: Any = None, timeout: float | None = None) -> dict[str, Any]:
        """Which files each rule would choose: ``summary['applicability'][rule.id]``."""
        result, _, ids = self._execute(target, "test", nodes, threads, None, qos, timeout,
                                       level=1, collect=False)
        return {"applicability": self._applicability(result.stdout, ids),
                "output": result.stdout}

    def _applicability(self, output: str, ids: list[str | None]) -> dict[str, dict[str, str]]:
        """``{rule id: row}`` of the rule applicability table in mmapplypolicy's output."""
        rules, _ = self._compile(None, None)
        selecting = [rule_id for node, rule_id in zip(rules, ids) if node.kind.selects_files]
        by_name = {node.name: rule_id for node, rule_id in zip(rules, ids)
                   if node.name is not None and rule_id is not None}
        applicability: dict[str, dict[str, str]] = {}
        for row in summary_table.parse_applicability(output):
            name = summary_table.rule_name(row.get("rule", ""))
            rule_id = by_name.get(name) if name is not None else None
            if rule_id is None:
                rule_id = _by_number(row.get("rule#", ""), rules, ids, selecting)
            if rule_id is not None:
                applicability[rule_id] = row
        return applicability


def _kept_policy_file(base: str) -> str:
    """In dry run the recorded mmapplypolicy line must name a file that is still there after
    the run: ``<work base>/dryrun-<time>-XXXX.pol`` (the work directory itself goes)."""
    import tempfile
    import time

    handle, path = tempfile.mkstemp(prefix=f"dryrun-{time.strftime('%Y%m%d-%H%M%S')}-",
                                    suffix=".pol", dir=base)
    os.close(handle)
    logging.getLogger("gpfskit.policy").info("dry run: the policy file of the recorded "
                                             "mmapplypolicy command is kept at %s", path)
    return path


def _by_number(text: str, rules: list[SyntaxRule], ids: list[str | None],
               selecting: list[str | None]) -> str | None:
    """The rule a summary row's Rule# stands for: the position in the policy file when that
    is a file-selecting rule, else the position among the file-selecting rules."""
    if not text.isdigit():
        return None
    number = int(text)
    if number < len(rules) and rules[number].kind.selects_files:
        return ids[number]
    return selecting[number] if number < len(selecting) else None

