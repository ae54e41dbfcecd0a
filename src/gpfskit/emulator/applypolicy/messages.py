"""The lines mmapplypolicy prints.

The phase lines and the summary columns are the product's (reference §5.2); the per-file
lines of ``-L 2`` and up follow the product's shapes (``WEIGHT(INF)`` when a rule has no
WEIGHT, attributes in brackets with ``2022-03-03@21:19:57`` timestamps at ``-L 5``).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Sequence

from gpfskit.language import Rule, RuleKind, format_rule

#: The attributes ``-L 5`` prints for each candidate / excluded file, in this order.
L5_ATTRIBUTES = ("MODIFICATION_TIME", "USER_ID", "GROUP_ID", "FILE_SIZE", "POOL_NAME",
                 "ACCESS_TIME", "KB_ALLOCATED", "FILESET_NAME")


def timed(text: str, when: float | None = None) -> str:
    """A phase line as the product prints it: ``[I] 2022-03-03@21:19:57.123 <text>``."""
    when = time.time() if when is None else when
    millis = int(when * 1000) % 1000
    return f"[I] {time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(when))}.{millis:03d} {text}"


def directories_scan(files: int, directories: int, others: int, problems: int) -> str:
    return (f"[I] Directories scan: {files} files, {directories} directories, {others} other "
            f"objects, {problems} 'skipped' files and/or errors.")


def evaluation(files: int) -> str:
    return timed(f"Parallel-piped sort and policy evaluation. {files} files scanned.")


def choosing(records: int) -> str:
    return timed(f"Piped sorting and candidate file choosing. {records} records scanned.")


def execution(dispatched: int) -> str:
    return timed(f"Policy execution. {dispatched} files dispatched.")


def show_path(path: bytes | str) -> str:
    """A path as printed in messages: undecodable bytes and control characters escaped."""
    if isinstance(path, bytes):
        path = path.decode("utf-8", "backslashreplace")
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)


def stamp(seconds: float | None) -> str:
    """``2022-03-03@21:19:57`` (local time)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "NULL"
    return time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime(seconds))


def weight_text(weight: float | None) -> str:
    if weight is None or math.isinf(weight):
        return "WEIGHT(INF)"
    return f"WEIGHT({weight:.6f})"


def rule_label(index: int, rule: Rule) -> str:
    return f"'{rule.name}'" if rule.name is not None else f"'{index}'"


def action_text(rule: Rule) -> str:
    """The verb part of a rule for per-file lines (``LIST 'x'``, ``MIGRATE ... TO POOL``)."""
    kind = rule.kind
    if kind is RuleKind.LIST:
        return f"LIST '{rule.list_name}'" + (" EXCLUDE" if rule.exclude else "")
    if kind is RuleKind.MIGRATE:
        text = "MIGRATE"
        if rule.from_pool is not None:
            text += f" FROM POOL '{rule.from_pool}'"
        return text + f" TO POOL '{rule.to_pool}'"
    return kind.value


def rule_summary_text(rule: Rule) -> str:
    """The ``Rule`` column of the summary: the rule without its long expressions."""
    short = dataclasses.replace(rule, where=None, weight=None, show=None, action=None,
                                size=None, when=None)
    return format_rule(short)


def candidate_line(path: bytes | str, index: int, rule: Rule, weight: float | None,
                   show: str | None, attrs: str | None = None) -> str:
    line = show_path(path)
    if attrs is not None:
        line += f" {attrs}"
    line += f" RULE {rule_label(index, rule)} {action_text(rule)} {weight_text(weight)}"
    if rule.show is not None:
        line += f" SHOW({show_path(show or '')})"
    return line


def excluded_line(path: bytes | str, index: int, rule: Rule, attrs: str | None = None) -> str:
    line = show_path(path)
    if attrs is not None:
        line += f" {attrs}"
    return line + f" RULE {rule_label(index, rule)} {action_text(rule)}"


def chosen_line(path: bytes | str, rule: Rule, weight: float | None, show: str | None,
                premigrate: bool = False) -> str:
    verb = action_text(rule)
    if premigrate:
        verb = verb.replace("MIGRATE", "PREMIGRATE", 1)
    line = f"{weight_text(weight)} {verb} {show_path(path)}"
    if rule.show is not None:
        line += f" SHOW({show_path(show or '')})"
    return line


def no_rule_line(path: bytes | str, attrs: str | None = None) -> str:
    line = show_path(path)
    if attrs is not None:
        line += f" {attrs}"
    return line + " NO RULE APPLIES"


def attributes_header() -> str:
    return "[I] Attributes shown per file: [" + " ".join(L5_ATTRIBUTES) + "]"


def summary(rows: Sequence[tuple[int, int, int, int, int, int, str]]) -> list[str]:
    """The per-rule table: (rule#, hits, KB hit, chosen, KB chosen, KB ill, rule text)."""
    lines = ["[I] Summary of Rule Applicability and File Choices:",
             f"{'Rule#':>6} {'Hit_Cnt':>12} {'KB_Hit':>14} {'Chosen':>12} {'KB_Chosen':>14} "
             f"{'KB_Ill':>10}     Rule"]
    for number, hits, kb_hit, chosen, kb_chosen, kb_ill, text in rows:
        lines.append(f"{number:>6} {hits:>12} {kb_hit:>14} {chosen:>12} {kb_chosen:>14} "
                     f"{kb_ill:>10}     {text}")
    return lines


CURRENT_UTILIZATION = "[I] GPFS Current Data Pool Utilization in KB and %"
PREDICTED_UTILIZATION = "Predicted Data Pool Utilization in KB and %:"


def utilization(title: str, rows: Sequence[tuple[str, float, float]]) -> list[str]:
    """A data pool utilization table: (pool, KB occupied, KB total) per pool."""
    lines = [title, f"{'Pool_Name':<19}{'KB_Occupied':>20}{'KB_Total':>16}"
                    f"{'Percent_Occupied':>18}"]
    for pool, used, total in rows:
        pct = used * 100.0 / total if total else 0.0
        lines.append(f"{pool:<19}{round(used):>20}{round(total):>16}{pct:>17.9f}%")
    return lines


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Files scanned and the rate, on one refreshed stderr line (terminals only)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, files: int, directories: int, problems: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        sys.stderr.write(f"\r[I] Scanning: {files} files, {directories} directories, "
                         f"{problems} errors, {files / elapsed:,.0f} files/s ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
