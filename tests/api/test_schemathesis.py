"""Property-based tests of the served OpenAPI schema: generated requests never get a 5xx, and every response
(status, content type, headers, body) is the one the schema documents.

The server is a real `live_server` and the schema is the one it serves; the client is an account owner
authenticated with a token. Every operation gets valid (positive) and invalid (negative) requests, first with
every part generated (so most path parameters name nothing), then with the path parameters naming existing
resources, so that successful responses are checked too.
"""

from __future__ import annotations

import os
import re
import traceback
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.audit import ChangeContext
from domains.models import OriginType
from origin_fetch.services import origin_host_update
from tests import factories

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25
PATH_PARAMETER = re.compile(r"{([^}]+)}")


@pytest.fixture
def existing(alpha, alice) -> dict[str, Any]:
    """A domain with two origins and two revisions, by the path parameters that name them."""
    domain = factories.make_domain(
        account=alpha,
        name="fuzz.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "origin.alpha.example", 443)],
    )
    context = ChangeContext(user=alice)
    origin_host_update(domain=domain, host="origin.alpha.example", context=context)
    origin_host_update(domain=domain, host="host.alpha.example", context=context)
    return {
        "name": domain.name,
        "domain_name": domain.name,
        "id": domain.origins.order_by("id").first().pk,
        "number": 1,
    }


@pytest.fixture
def served(live_server, alice):  # type: ignore[no-untyped-def]
    """The schema as the live server serves it, and the owner's request headers."""
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    return schema, {"Authorization": f"Token {factories.make_token(alice)}"}


def run_operation(operation, mode: GenerationMode, headers: dict[str, str], **fixed: Any) -> None:  # type: ignore[no-untyped-def]
    @hypothesis.given(case=operation.as_strategy(mode, **fixed))
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("SCHEMATHESIS_RANDOM") is None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def failures_of(schema, headers: dict[str, str], pinned: dict[str, Any] | None) -> list[str]:  # type: ignore[no-untyped-def]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {}
        if pinned is not None:
            if operation.method.upper() == "DELETE":
                continue  # the other operations need the domain and its origins
            names = PATH_PARAMETER.findall(operation.path)
            fixed["path_parameters"] = {name: pinned[name] for name in names if name in pinned}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, headers, **fixed)
            except hypothesis.errors.Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # Nothing in this request can be made invalid: a path parameter that is any string, say.
            except (Exception, FailureGroup):  # report every operation's failure, not only the first one
                failures.append(f"{operation.label} ({mode.value}):\n{traceback.format_exc(limit=0)}")
    return failures


def test_generated_requests_conform_to_the_schema(served) -> None:  # type: ignore[no-untyped-def]
    schema, headers = served
    failures = failures_of(schema, headers, pinned=None)
    assert not failures, "\n".join(failures)


def test_requests_to_existing_resources_conform_to_the_schema(served, existing) -> None:  # type: ignore[no-untyped-def]
    schema, headers = served
    failures = failures_of(schema, headers, pinned=existing)
    assert not failures, "\n".join(failures)
