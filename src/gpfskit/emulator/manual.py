"""Help for the emulated commands, made from the tables that parse their arguments.

``COMMAND --help`` (and ``gpfskit man COMMAND``) print a command's summary, its synopsis, each
option of its option table (``flags`` and ``valued`` of ``@command``: the very lists the parser
accepts, so help and parsing cannot disagree) and what the emulation leaves out. ``gpfskit mm``
lists the commands with their summaries.
"""

from __future__ import annotations

import re
import textwrap

from gpfskit.emulator.dispatch import Spec, commands

#: One line per emulated command: what it does.
SUMMARIES: dict[str, str] = {
    "mmaddcallback": "Register a user-defined command to run when an event happens.",
    "mmapplypolicy": "Run the policy rules of a file over a file system or a directory.",
    "mmchattr": "Change a file's replication, storage pool or extended attributes.",
    "mmchdisk": "Change the state or availability of disks.",
    "mmchfileset": "Change a fileset's name, comment or inode limits.",
    "mmchfs": "Change the attributes of a file system.",
    "mmchnode": "Change node designations (quorum, manager and others).",
    "mmchnodeclass": "Add or remove members of a user-defined node class.",
    "mmchpolicy": "Install the placement policy of a file system.",
    "mmchpool": "Change a storage pool's write-affinity (FPO) settings.",
    "mmcrfileset": "Create a fileset, dependent or with an inode space of its own.",
    "mmcrnodeclass": "Create a user-defined node class.",
    "mmcrsnapshot": "Create global or fileset snapshots.",
    "mmdelcallback": "Remove registered callbacks.",
    "mmdelfileset": "Delete a fileset.",
    "mmdelnodeclass": "Delete user-defined node classes.",
    "mmdelsnapshot": "Delete a snapshot.",
    "mmdf": "Show the capacity and free space of disks and pools.",
    "mmgetstate": "Show the GPFS daemon state of nodes.",
    "mmlinkfileset": "Link a fileset at a junction path.",
    "mmlsattr": "Show the GPFS attributes of files.",
    "mmlscallback": "List the registered callbacks.",
    "mmlscluster": "Show the cluster's configuration and its nodes.",
    "mmlsdisk": "List the disks of a file system.",
    "mmlsfileset": "List filesets and their attributes.",
    "mmlsfs": "Show the attributes of file systems.",
    "mmlsmgr": "Show the file system manager nodes.",
    "mmlsmount": "Show which nodes have file systems mounted.",
    "mmlsnode": "List the nodes of the cluster.",
    "mmlsnodeclass": "List node classes and their members.",
    "mmlsnsd": "List the network shared disks.",
    "mmlspolicy": "Show the installed placement policy of a file system.",
    "mmlspool": "List the storage pools of a file system.",
    "mmlssnapshot": "List the snapshots of a file system or fileset.",
    "mmlsquota": "Show quota limits and usage.",
    "mmmount": "Mount file systems on nodes.",
    "mmnfs": "Manage NFS exports (configuration only).",
    "mmrepquota": "Report the quotas of a file system.",
    "mmsetquota": "Set quota limits for users, groups or filesets.",
    "mmshutdown": "Stop the GPFS daemon on nodes.",
    "mmsmb": "Manage SMB exports (configuration only).",
    "mmstartup": "Start the GPFS daemon on nodes.",
    "mmumount": "Unmount file systems from nodes.",
    "mmunlinkfileset": "Unlink a fileset from its junction.",
}

#: What a command leaves out beyond options that are not in its table (those are refused).
LIMITS: dict[str, str] = {
    "mmapplypolicy": "Scans run in this process (-N and -g only shape the messages); EXTERNAL "
                     "pool and list programs run as real subprocesses.",
    "mmnfs": "Exports are recorded in the cluster's state; no NFS server is started.",
    "mmsmb": "Exports are recorded in the cluster's state; no SMB server is started.",
    "mmchdisk": "Disks are records: no data moves when a disk changes state.",
    "mmstartup": "Nodes are records: no daemon process is started.",
    "mmshutdown": "Nodes are records: no daemon process is stopped.",
    "mmmount": "File systems are directories of the host; mounting records the state only.",
    "mmumount": "File systems are directories of the host; unmounting records the state only.",
}

_GENERAL_LIMIT = ("Options of the real command that are not listed above are refused with "
                  "'Incorrect option' and change nothing.")
_WIDTH = 78


def spec_of(name: str) -> Spec | None:
    """The emulated command ``name`` (aliases included), or None."""
    return commands().get(name)


def summary(spec: Spec) -> str:
    return SUMMARIES.get(spec.name, "")


def _metavar(spec: Spec, option: str) -> str:
    """The word after ``option`` in the synopsis (``-J Junction`` -> ``Junction``)."""
    match = re.search(rf"(?<![\w-]){re.escape(option)}[ =]+(\{{[^}}]*\}}|[^\s|]+)",
                      spec.usage)
    if not match:
        return "VALUE"
    word = match.group(1)
    if word.startswith("{"):
        return " ".join(word.split())
    for opening, closing in ("[]", "{}"):
        while word.endswith(closing) and word.count(closing) > word.count(opening):
            word = word[:-1]
    return word or "VALUE"


def options(spec: Spec) -> list[str]:
    """Each option the parser accepts, as written on the command line."""
    if not spec.parse_args:
        return []
    return ([*spec.flags] + [f"{option} {_metavar(spec, option)}" for option in spec.valued])


def _limits(spec: Spec) -> list[str]:
    own = LIMITS.get(spec.name)
    general = (_GENERAL_LIMIT if spec.parse_args else
               "Subcommands and options not in the synopsis are refused and change nothing.")
    return [own, general] if own else [general]


def _wrapped(text: str, indent: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)


def help_text(spec: Spec) -> str:
    """What ``COMMAND --help`` prints."""
    synopsis = "\n".join("  " + line for line in spec.usage.strip().splitlines())
    parts = [f"{spec.name} - {summary(spec)}", "", "Usage:", synopsis, ""]
    listed = options(spec)
    if listed:
        parts += ["Options emulated:", *(f"  {option}" for option in listed), ""]
    parts += ["Not emulated:", *(_wrapped(text, "  ") for text in _limits(spec))]
    if spec.changing:
        parts += ["", "Changes the cluster: it waits for another changing command to finish."]
    return "\n".join(parts) + "\n"


def man_page(spec: Spec) -> str:
    """The same text in the sections of a manual page (``gpfskit man COMMAND``)."""
    synopsis = "\n".join("       " + line for line in spec.usage.strip().splitlines())
    title = f"{spec.name.upper()}(8)"
    parts = [f"{title:<20}{'gpfskit emulator':^38}{title:>20}", "",
             "NAME", f"       {spec.name} - {summary(spec)}", "", "SYNOPSIS", synopsis, ""]
    listed = options(spec)
    if listed:
        parts += ["OPTIONS (EMULATED)", *(f"       {option}" for option in listed), ""]
    parts += ["NOT EMULATED", *(_wrapped(text, "       ") for text in _limits(spec)), "",
              "SEE ALSO", "       gpfskit mm (the list of emulated commands)"]
    return "\n".join(parts) + "\n"


def listing() -> str:
    """What ``gpfskit mm`` prints: every emulated command with its summary, one line each."""
    specs = {spec.name: spec for spec in commands().values()}
    width = max(map(len, specs))
    lines = [f"  {name:<{width}}  {summary(spec)}" for name, spec in sorted(specs.items())]
    aliases = sorted(name for name, spec in commands().items() if name != spec.name)
    text = ("Usage: gpfskit mm COMMAND [ARGS...]\n\n"
            "Run one command of the emulated cluster (gpfskit.emulator.root), as the real\n"
            "command would run on a Storage Scale node. COMMAND --help shows its synopsis,\n"
            "options and limits; gpfskit man COMMAND shows them as a manual page.\n\n"
            "Emulated commands:\n" + "\n".join(lines) + "\n")
    if aliases:
        text += "Also: " + ", ".join(
            f"{alias} (= {commands()[alias].name})" for alias in aliases) + "\n"
    return text
