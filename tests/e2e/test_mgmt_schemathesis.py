"""Schema-driven fuzzing: requests generated from ``/openapi.json`` (valid and invalid ones),
a bounded number per operation, sent as the administrator. No answer may be a 5xx."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgmt_service import Service

EXAMPLES = 3  # per operation: bounded, so the suite stays fast


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("fuzz"),
                  # jobs would act on the cluster: keep them queued, the answers are the test
                  gpfskit__management__jobs__workers=0).start()
    yield svc
    svc.stop()


def test_no_operation_answers_5xx(service):
    schema = schemathesis.openapi.from_dict(requests.get(service.url + "/openapi.json").json())
    session = service.session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []

    def fuzz(operation) -> None:
        strategy = st.one_of(operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
                             operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def check(case) -> None:
            resp = case.call(base_url=service.url, session=session, timeout=30)
            if resp.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} "
                                f"{case.body!r}: {resp.status_code} {resp.text[:300]}")

        check()

    for operation in operations:
        fuzz(operation)
    assert not failures, "\n".join(failures[:10])
