"""Policies: rules, criteria, management and placement policies, list processing, map-reduce.

* :mod:`.criteria` - ``Criteria``: WHERE conditions from Python values;
* :mod:`.rule` - ``SetPoolRule``, ``MigrateRule``, ``DeleteRule``, ``ListRule``,
  ``ExcludeRule``, ``ExternalListRule``, ``ExternalPoolRule``, ``RawRule``;
* :mod:`.processing` - ``ListProcessingRule``, ``MapReduceRule``;
* :mod:`.rules` - the ``policy.rules`` collection;
* :mod:`.management` - ``ManagementPolicy`` (``mmapplypolicy``);
* :mod:`.placement` - ``PlacementPolicy`` (``mmlspolicy`` / ``mmchpolicy``);
* :mod:`.attributes`, :mod:`.filelist` - file-attribute objects and the file-list parser;
* :mod:`.workspace`, :mod:`.driver` - the work directory and the EXTERNAL LIST driver.

The policy language itself (parser, printer, evaluator) is ``gpfskit.language``.

Names are imported on first use, so that a list driver (``python -m gpfskit.policy.driver``)
starts without loading the policy language or the object API.
"""

from __future__ import annotations

from gpfskit import lazy

_EXPORTS = {
    "Criteria": "criteria",
    "CriteriaList": "criteria",
    "Rule": "rule",
    "SetPoolRule": "rule",
    "MigrateRule": "rule",
    "DeleteRule": "rule",
    "ListRule": "rule",
    "ExcludeRule": "rule",
    "ExternalListRule": "rule",
    "ExternalPoolRule": "rule",
    "RawRule": "rule",
    "ProcessingRule": "processing",
    "ListProcessingRule": "processing",
    "MapReduceRule": "processing",
    "Rules": "rules",
    "PlacementRules": "rules",
    "ManagementPolicy": "management",
    "PlacementPolicy": "placement",
    "FileAttributes": "attributes",
    "FileList": "filelist",
    "Layout": "filelist",
    "PolicyError": "errors",
    "PolicyProcessingError": "errors",
    "setTempFilePath": "target",
    "getTempFilePath": "target",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy.exports(__name__, _EXPORTS)
