"""The API against its own OpenAPI document, by a fuzzer no one here wrote (schemathesis): every route, with
a key, every check on. A server error, an undocumented status, or a body that does not match its schema
fails the test. coinslot runs as a real server with stripesim behind it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from tests.e2e.billing_user import push_catalog
from tests.support.stack import Stack

pytestmark = [pytest.mark.slow]

EXAMPLES_PER_ROUTE = 100

# Every check, with one allowance: a schema-valid request may still break a business rule no schema can
# state (a plan key the catalog does not have, a balance too small, an order in another state), and is
# then answered with its documented 402, 404, 409 or 422.
CONFIG = SchemathesisConfig.from_str("""
[generation]
mode = "all"

[checks]
enabled = true

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "402", "404", "409", "422"]
""")


@pytest.fixture
def running(database_url: str) -> Iterator[Stack]:
    stack = Stack.start(database_url, catalog="patch_hive")
    push_catalog(stack, "patch_hive")
    yield stack
    stack.stop()


def fuzz(operation: Any, headers: dict[str, str]) -> None:
    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers)

    run()


def test_every_route_answers_as_its_document_says(running: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {running.api_key}"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(operation, headers)
        except BaseException as exc:  # every route is tried; all findings are reported together
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)
