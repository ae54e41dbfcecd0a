"""Which admin commands change the cluster and which only read it.

Dry run records the changing ones and still runs the read-only ones, so this table decides what
a dry run does. A command missing from the table counts as changing: the safe side.
"""

from __future__ import annotations

from collections.abc import Sequence

READ_ONLY = frozenset({
    "mmlscluster", "mmlsnode", "mmgetstate", "mmlsfs", "mmlsmount", "mmlsfileset",
    "mmlssnapshot", "mmlsquota", "mmrepquota", "mmlspool", "mmdf", "mmlsdisk", "mmlsnsd",
    "mmlsnodeclass", "mmlsattr", "mmlspolicy", "mmlscallback", "mmlsconfig", "mmlsmgr",
    "mmlslicense", "mmhealth", "mmclidecode",
})

CHANGING = frozenset({
    "mmstartup", "mmshutdown", "mmchfs", "mmmount", "mmumount", "mmunmount", "mmcrfileset",
    "mmdelfileset", "mmlinkfileset", "mmunlinkfileset", "mmchfileset", "mmcrsnapshot",
    "mmdelsnapshot", "mmsetquota", "mmedquota", "mmdefedquota", "mmchdisk", "mmcrnodeclass",
    "mmchnodeclass", "mmdelnodeclass", "mmchnode", "mmchattr", "mmchpolicy", "mmapplypolicy",
    "mmaddcallback", "mmdelcallback", "mmchconfig", "mmchpool",
})

# Commands with sub-commands: (command, sub-command, verb) -> read-only?
_READ_VERBS = {"list", "show"}


def command_name(argv: Sequence[str]) -> str:
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def is_read_only(argv: Sequence[str]) -> bool:
    """True when running ``argv`` cannot change the cluster."""
    name = command_name(argv)
    if name in READ_ONLY:
        return True
    if name in ("mmnfs", "mmsmb", "mmces"):
        return len(argv) > 2 and argv[2] in _READ_VERBS
    if name == "mmapplypolicy":
        return _option_value(argv, "-I") == "test"
    if name == "mmchpolicy":
        return _option_value(argv, "-I") == "test"
    return False


def _option_value(argv: Sequence[str], option: str) -> str | None:
    for index, arg in enumerate(argv[:-1]):
        if arg == option:
            return argv[index + 1]
    return None
