"""The callback events and ``%variables`` of ``mmaddcallback`` (storage-scale.md §3).

``EVENTS`` maps each event to where it runs: ``local`` (the node where it happens),
``manager`` (the file system manager node; local events the reference places there) or
``global`` (every node). Names are case-sensitive; ``ALIASES`` are other spellings that are
accepted and mean the canonical name.
"""

from __future__ import annotations

LOCAL, GLOBAL, MANAGER = "local", "global", "manager"

_AFM = ("afmFilesetExpired", "afmFilesetUnexpired", "afmHomeConnected", "afmHomeDisconnected",
        "afmManualResyncComplete", "afmPrepopEnd", "afmRecoveryStart", "afmRecoveryEnd",
        "afmRecoveryFail", "afmRPOMiss", "afmCmdRequeued", "afmFilesetUnmounted")
_GNR = ("preRGTakeover", "postRGTakeover", "preRGRelinquish", "postRGRelinquish",
        "rgOpenFailed", "rgPanic", "pdFailed", "pdRecovered", "pdReplacePdisk", "pdPathDown",
        "daRebuildFailed")

EVENTS: dict[str, str] = {
    "startup": LOCAL, "shutdown": LOCAL, "preStartup": LOCAL, "preShutdown": LOCAL,
    "mount": LOCAL, "unmount": LOCAL, "preMount": LOCAL, "preUnmount": LOCAL,
    "lowDiskSpace": MANAGER, "noDiskSpace": MANAGER, "softQuotaExceeded": MANAGER,
    "usageUnderSoftQuota": MANAGER, "filesetLimitExceeded": MANAGER,
    "snapshotCreated": LOCAL,
    "quorumReached": GLOBAL, "quorumLoss": GLOBAL, "quorumNodeJoin": GLOBAL,
    "quorumNodeLeave": GLOBAL, "nodeJoin": GLOBAL, "nodeLeave": GLOBAL,
    "clusterManagerTakeOver": GLOBAL,
    "deadlockDetected": LOCAL, "deadlockOverload": LOCAL, "diskFailure": LOCAL,
    "diskIOErr": LOCAL, "fsstructLost": LOCAL, "healthCheck": LOCAL, "ccrFileChange": LOCAL,
    "traceConfigChanged": LOCAL, "tiebreakerCheck": LOCAL, "sendRequestToNodes": LOCAL,
    "nsdCksumMismatch": LOCAL,
    **{name: LOCAL for name in _AFM}, **{name: LOCAL for name in _GNR},
}
ALIASES = {"clusterManagerTakeover": "clusterManagerTakeOver",
           "fileSetLimitExceeded": "filesetLimitExceeded"}
PRE_EVENTS = frozenset({"preStartup", "preShutdown", "preMount", "preUnmount"})

VARIABLES = frozenset({
    "eventName", "fsName", "storagePool", "filesetName", "eventNode", "quorumNodes", "upNodes",
    "blockLimit", "blockQuota", "blockUsage", "filesLimit", "filesQuota", "filesUsage",
    "quotaID", "quotaType", "quotaOwnerName", "quotaEventType", "filesetSize",
    "clusterManager", "clusterName", "downNodes", "myNode", "diskName", "reason",
    "requestType", "snapshotID", "snapshotName", "homeServer", "ccrObjectName",
    "ccrObjectValue", "ccrObjectVersion", "rgName", "rgErr", "rgReason", "daName", "pdName",
})
# What a variable with no value for the event (or an unknown one) is replaced by.
UNDEFINED = "UNDEFINED"
ONERROR = ("continue", "quorumLoss", "shutdown")


def canonical(event: str) -> str:
    return ALIASES.get(event, event)


def known_event(event: str) -> bool:
    return canonical(event) in EVENTS
