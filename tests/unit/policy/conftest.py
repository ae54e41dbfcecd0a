"""Fixtures of the policy tests (none is autouse: the language tests below are unaffected)."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_fakes import FakeApplyPolicy, make_records


@pytest.fixture
def work_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Policy work directories go under tmp_path/work; directory targets need no cluster."""
    from gpfskit.config import config
    from gpfskit.policy import target

    base = tmp_path / "work"
    config["gpfskit.policy.tmpdir"] = str(base)
    monkeypatch.setattr(target, "_filesystems", lambda: [])
    return base


@pytest.fixture
def records() -> list[dict]:
    return make_records(60)


@pytest.fixture
def fake_apply(work_base: Path, records: list[dict], monkeypatch: pytest.MonkeyPatch):
    """``mmapplypolicy`` replaced by FakeApplyPolicy over ``records``."""
    from gpfskit.policy import management

    fake = FakeApplyPolicy(records)
    monkeypatch.setattr(management, "run", fake)
    return fake
