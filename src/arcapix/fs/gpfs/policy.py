"""``arcapix.fs.gpfs.policy``: re-exports of ``gpfskit.policy``."""

from gpfskit.policy.errors import PolicyError, PolicyProcessingError
from gpfskit.policy.management import ManagementPolicy
from gpfskit.policy.placement import PlacementPolicy
from gpfskit.policy.processing import ListProcessingRule, MapReduceRule
from gpfskit.policy.rules import PlacementRules, Rules
from gpfskit.policy.target import getTempFilePath, setTempFilePath

__all__ = ["ListProcessingRule", "ManagementPolicy", "MapReduceRule", "PlacementPolicy",
           "PlacementRules", "PolicyError", "PolicyProcessingError", "Rules",
           "getTempFilePath", "setTempFilePath"]
