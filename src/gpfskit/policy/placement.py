"""PlacementPolicy: the policy installed on a file system (``mmlspolicy`` / ``mmchpolicy``).

    policy = PlacementPolicy('mmfs1')          # reads mmlspolicy mmfs1 -L
    policy.rules.new(SetPoolRule, target='sas1', criteria=Criteria.like('name', '*.mp4'))
    policy.rules.defaultPlacement = 'sata1'    # or a SetPoolRule without conditions
    policy.validate()                          # mmchpolicy mmfs1 <file> -I test
    policy.save()                              # mmchpolicy mmfs1 <file>
    policy.pool_for_fileset('sas1-projects')   # 'sas1': where that fileset's files go

The installed text is kept whole: management rules installed with it survive a save. When
saving, the default placement rule (the unconditional SET POOL rule) is written last, since
placement takes the first rule that matches. ``export_to_file(path)`` writes the text,
``import_from_file(path)`` replaces the rules with a file's. The policy file handed to
``mmchpolicy`` is written into the file system's policy work directory (see
:mod:`gpfskit.policy.target`), so that it is readable wherever the command runs, and removed
afterwards.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from gpfskit.commands import CommandResult, run
from gpfskit.language import (
    EvalContext,
    format_policy,
    referenced_attributes,
    rule_matches,
)
from gpfskit.policy.errors import PolicyError
from gpfskit.policy.management import load_rules
from gpfskit.policy.rule import SetPoolRule
from gpfskit.policy.rules import PlacementRules
from gpfskit.policy.target import resolve, work_base

_NO_POLICY = ("no policy file was installed", "no policy installed", "policy has not been")
_HEADERS = ("policy for file system", "installed by", "first line of policy",
            "policy file", "policy ")


def installed_text(output: str) -> str:
    """The policy text in ``mmlspolicy <fs> -L`` output ('' when none is installed)."""
    lowered = output.strip().lower()
    if not lowered or any(marker in lowered for marker in _NO_POLICY):
        return ""
    lines = output.splitlines()
    # Human headers (when present) end with a line like "... is:"; the policy follows.
    for index, line in enumerate(lines[:6]):
        if line.rstrip().endswith("is:") and line.strip().lower().startswith(_HEADERS):
            return "\n".join(lines[index + 1:]) + "\n"
    return output


class PlacementPolicy:
    """See the module docstring."""

    def __init__(self, filesystem: Any) -> None:
        name = filesystem if isinstance(filesystem, str) else \
            getattr(filesystem, "deviceName", None) or getattr(filesystem, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"expected a file system name, got {filesystem!r}")
        self.filesystem = name.removeprefix("/dev/")
        self.rules = PlacementRules()
        self.reload()

    def reload(self) -> None:
        """Read the installed policy again (``mmlspolicy <fs> -L``)."""
        result = run(["mmlspolicy", self.filesystem, "-L"])
        text = installed_text(result.stdout)
        self.rules = PlacementRules(load_rules(text, f"policy of {self.filesystem}"))

    def pool_for_fileset(self, fileset: str) -> str | None:
        """The pool new files of ``fileset`` are placed in, whatever their names or sizes.

        The first SET POOL rule (in installed order) whose conditions depend only on the
        fileset (FOR FILESET, ``FILESET_NAME`` comparisons, or none) and hold for it decides;
        rules that also look at per-file attributes are passed over, since they route only
        some of the fileset's files. None when no such rule matches.
        """
        record = {"FILESET_NAME": fileset}
        context = EvalContext()
        for rule in self.rules.ordered():
            if not isinstance(rule, SetPoolRule):
                continue
            node = rule.to_ast()
            if referenced_attributes(node) - {"FILESET_NAME"}:
                continue
            if rule_matches(node, record, context):
                return node.pool
        return None

    def text(self) -> str:
        """The policy text as it would be installed (default placement rule last)."""
        return format_policy([rule.to_ast() for rule in self.rules.ordered()])

    def __str__(self) -> str:
        return self.text()

    def _mmchpolicy(self, extra: list[str]) -> CommandResult:
        base = work_base(resolve(self.filesystem))
        created = not os.path.isdir(base)
        os.makedirs(base, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="placement-", suffix=".pol", dir=base)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.text())
            return run(["mmchpolicy", self.filesystem, path, *extra])
        finally:
            os.unlink(path)
            if created:
                try:
                    os.rmdir(base)
                except OSError:
                    pass

    def _check(self) -> None:
        """Refuse, before any command runs, a policy Storage Scale would refuse for want of
        something: no rules, or a rule missing what its kind needs (a MIGRATE's TO POOL)."""
        if not self.rules:
            raise PolicyError("the placement policy has no rules")
        for rule in self.rules.ordered():
            rule.check()

    def validate(self) -> bool:
        """Check the policy with ``mmchpolicy <fs> <file> -I test`` (raises if refused)."""
        self._check()
        self._mmchpolicy(["-I", "test"])
        return True

    def save(self, testOnly: bool = False) -> CommandResult:
        """Install the policy with ``mmchpolicy`` (only validate with ``testOnly``)."""
        self._check()
        return self._mmchpolicy(["-I", "test"] if testOnly else [])

    def export_to_file(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.text())

    def import_from_file(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        self.rules = PlacementRules(load_rules(text, path))
