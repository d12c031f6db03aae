"""Terraform's life cycle of a CDN and a DCDN domain, replayed with the official SDKs against a live console
whose changes reach real edge agents through a real Celery worker, PostgreSQL and Redis."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from accounts.models import OperationLog
from accounts.models import Source as LogSource
from domains.models import Domain
from tests.alibaba_api import terraform
from tests.alibaba_api.terraform import CDN_PRODUCT, DCDN_PRODUCT, Source, VendorError
from tests.conftest import require_postgresql_and_redis
from tests.processes import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]

SDKS = {
    # The new SDK (ACS3-HMAC-SHA256), the new SDK signing HMAC-SHA1 (V1), the older core SDK (V1).
    "cdn-new-sdk": (CDN_PRODUCT, lambda e, k, s: terraform.new_sdk(e, k, s, terraform.CDN)),
    "cdn-new-sdk-v1": (CDN_PRODUCT, lambda e, k, s: terraform.new_sdk(e, k, s, terraform.CDN, v1=True)),
    "cdn-core-sdk": (CDN_PRODUCT, lambda e, k, s: terraform.core_sdk(e, k, s, terraform.CDN)),
    "dcdn-new-sdk": (DCDN_PRODUCT, lambda e, k, s: terraform.new_sdk(e, k, s, terraform.DCDN)),
}


@pytest.fixture(autouse=True)
def _real_services():
    require_postgresql_and_redis()


def held_everywhere(agents, name: str, check) -> None:  # type: ignore[no-untyped-def]
    for agent in agents:
        wait_for(lambda a=agent: check(a), timeout=30, what=f"{agent.name}: {name}")


def origins_on(agent, name: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    response = agent.read(f"/v1/config/{name}")
    if response.status_code != 200:
        return []
    return sorted((o["address"], o["port"]) for o in response.json()["origins"])


@pytest.mark.parametrize("sdk", list(SDKS))
def test_the_terraform_life_cycle_of_a_domain(
    live_server, celery_worker, edge_agents, alpha, alice, alice_key, sdk
):
    product, make = SDKS[sdk]
    call = make(f"127.0.0.1:{urlparse(live_server.url).port}", alice_key.access_key_id, alice_key.secret)
    name = f"{sdk}.alpha.example"
    first = [Source("domain", "origin-a.example.net", 443), Source("ipaddr", "198.51.100.7", 443, 30, 20)]

    # Create with two sources and tags; Terraform waits for `online`, which comes once every agent holds it.
    terraform.create(call, product, name, first, {"env": "prod", "team": "edge"}, "overseas")
    for agent in edge_agents:
        assert origins_on(agent, name) == [("198.51.100.7", 443), ("origin-a.example.net", 443)]
    state = terraform.read(call, product, name)
    assert state["sources"] == [
        ("198.51.100.7", 443, 30, "ipaddr", 20),
        ("origin-a.example.net", 443, 20, "domain", 10),
    ]
    assert (state["status"], state["scope"], state["tags"]) == (
        "online",
        "overseas",
        {"env": "prod", "team": "edge"},
    )
    assert state["cname"].startswith(name)

    # alicloud_cdn_domain_config: Origin SNI, `success` once every agent applied it.
    config = terraform.set_config(
        call, product, name, "https_origin_sni", {"enabled": "on", "https_origin_sni": "tls.example.org"}
    )
    for agent in edge_agents:
        assert agent.held(name)["origin_sni"] == {"enabled": True, "name": "tls.example.org"}
    assert terraform.read_config(call, product, config)["FunctionArgs"]["FunctionArg"] == [
        {"ArgName": "enabled", "ArgValue": "on"},
        {"ArgName": "https_origin_sni", "ArgValue": "tls.example.org"},
    ]

    # Modify the sources: the IP origin is replaced; the agents fetch from the new set.
    second = [first[0], Source("ipaddr", "198.51.100.8", 443, 30, 20)]
    terraform.update_sources(call, product, name, second)
    held_everywhere(
        edge_agents,
        name,
        lambda a: origins_on(a, name) == [("198.51.100.8", 443), ("origin-a.example.net", 443)],
    )

    # Stop: `offline` at once, and every edge answers as stopped; start: `online` once every edge serves it.
    terraform.set_status(call, product, name, "offline")
    held_everywhere(edge_agents, name, lambda a: a.held(name)["enabled"] is False)
    terraform.set_status(call, product, name, "online")
    for agent in edge_agents:
        assert agent.held(name)["enabled"] is True

    # `terraform import` of the domain by its name reads back what the life cycle left.
    imported = terraform.read(call, product, name)
    assert imported == state | {
        "sources": [("198.51.100.8", 443, 30, "ipaddr", 20), ("origin-a.example.net", 443, 20, "domain", 10)]
    }
    assert terraform.read_config(call, product, config)["Status"] == "success"

    # Destroy: the config, then the domain; the API forgets it at once, every edge drops it.
    terraform.delete_config(call, product, config)
    assert terraform.read_config(call, product, config) is None
    terraform.delete(call, product, name)
    held_everywhere(edge_agents, name, lambda a: a.held(name)["deleted"] is True)
    for agent in edge_agents:
        assert agent.read(f"/v1/config/{name}").status_code == 404
    wait_for(lambda: not Domain.objects.filter(name=name).exists(), timeout=30, what="the row to go")
    with pytest.raises(VendorError) as caught:
        terraform.read(call, product, name)
    assert (caught.value.code, caught.value.status) == ("InvalidDomain.NotFound", 404)

    actions = list(
        OperationLog.objects.filter(domain_name=name).order_by("id").values_list("action", "source", "actor")
    )
    assert [action for action, _, _ in actions] == [
        "domain.create",
        "domain_tags.update",
        "origin_sni.update",
        "origins.replace",
        "domain.disable",
        "domain.enable",
        "origin_sni.update",
        "domain.delete",
    ]
    assert {(source, actor) for _, source, actor in actions} == {(LogSource.OPENAPI, alice.pk)}
