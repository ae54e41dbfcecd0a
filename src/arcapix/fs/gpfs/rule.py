"""``arcapix.fs.gpfs.rule``: re-exports of ``gpfskit.policy.rule`` and the processing rules."""

from gpfskit.policy.processing import ListProcessingRule, MapReduceRule, ProcessingRule
from gpfskit.policy.rule import (
    DeleteRule,
    ExcludeRule,
    ExternalListRule,
    ExternalPoolRule,
    ListRule,
    MigrateRule,
    RawRule,
    Rule,
    SetPoolRule,
)

__all__ = ["DeleteRule", "ExcludeRule", "ExternalListRule", "ExternalPoolRule",
           "ListProcessingRule", "ListRule", "MapReduceRule", "MigrateRule", "ProcessingRule",
           "RawRule", "Rule", "SetPoolRule"]
