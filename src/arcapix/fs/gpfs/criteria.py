"""``arcapix.fs.gpfs.criteria``: re-exports of ``gpfskit.policy.criteria``."""

from gpfskit.policy.criteria import Criteria, CriteriaList

__all__ = ["Criteria", "CriteriaList"]
