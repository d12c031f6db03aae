"""Config Status through the official SDK follows real delivery: Celery, edge agents, PostgreSQL, Redis."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_cdn20180510.client import Client as CdnClient
from alibabacloud_tea_openapi.utils_models import Config
from aliyunsdkcdn.request.v20180510.BatchSetCdnDomainConfigRequest import BatchSetCdnDomainConfigRequest
from aliyunsdkcdn.request.v20180510.DescribeCdnDomainConfigsRequest import DescribeCdnDomainConfigsRequest
from aliyunsdkcore.client import AcsClient

from tests import factories
from tests.alibaba_api.conftest import Key, functions
from tests.conftest import require_postgresql_and_redis
from tests.processes import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def _real_services():
    require_postgresql_and_redis()


def client_for(live_server, key: Key) -> CdnClient:
    endpoint = f"127.0.0.1:{urlparse(live_server.url).port}"
    return CdnClient(
        Config(
            access_key_id=key.access_key_id, access_key_secret=key.secret, endpoint=endpoint, protocol="http"
        )
    )


def sni_status(client: CdnClient, domain: str) -> tuple[str, dict[str, str]]:
    body = client.describe_cdn_domain_configs(
        cdn_models.DescribeCdnDomainConfigsRequest(domain_name=domain, function_names="https_origin_sni")
    ).body
    [config] = body.domain_configs.domain_config
    return config.status, {arg.arg_name: arg.arg_value for arg in config.function_args.function_arg}


def test_batch_set_is_configuring_until_every_edge_agent_holds_it(
    live_server, celery_worker, edge_agents, alpha, alice_key
):
    domains = [factories.make_domain(account=alpha, name=f"shop-{i}.alpha.example") for i in (1, 2)]
    names = [domain.name for domain in domains]
    client = client_for(live_server, alice_key)
    late = edge_agents[2]
    late.stop()

    client.batch_set_cdn_domain_config(
        cdn_models.BatchSetCdnDomainConfigRequest(
            domain_names=",".join(names),
            functions=functions("https_origin_sni", enabled="on", https_origin_sni="origin.example.com"),
        )
    )
    for name in names:
        status, args = sni_status(client, name)
        assert status == "configuring"
        assert args == {"enabled": "on", "https_origin_sni": "origin.example.com"}
    for agent in edge_agents[:2]:
        for name in names:
            wait_for(lambda a=agent, n=name: a.held(n), what=f"{agent.name} to hold {name}")
    assert sni_status(client, names[0])[0] in ("configuring", "failed")

    # Retries give up while the node is down; then the reconciler catches it up, and nobody acts.
    wait_for(lambda: sni_status(client, names[0])[0] == "failed", timeout=30, what="delivery to give up")
    late.start()
    for name in names:
        wait_for(lambda n=name: sni_status(client, n)[0] == "success", timeout=30, what=f"{name} applied")
        for agent in edge_agents:
            assert agent.held(name)["origin_sni"] == {"enabled": True, "name": "origin.example.com"}


def old_sdk_call(live_server, key: Key, request) -> dict:  # type: ignore[no-untyped-def]
    """A call with the older `aliyun-python-sdk-core` (HMAC-SHA1, the V1 signature)."""
    request.set_endpoint(f"127.0.0.1:{urlparse(live_server.url).port}")
    request.set_protocol_type("http")
    client = AcsClient(key.access_key_id, key.secret, "cn-hangzhou", auto_retry=False)
    try:
        return json.loads(client.do_action_with_exception(request))
    finally:
        client.session.close()


def test_a_v1_signed_batch_set_is_configuring_then_success_once_every_agent_holds_it(
    live_server, celery_worker, edge_agents, alpha, alice_key
):
    names = [factories.make_domain(account=alpha, name=f"v1-{i}.alpha.example").name for i in (1, 2)]
    late = edge_agents[0]
    late.stop()  # so that `configuring` is observable, whatever the speed of delivery

    request = BatchSetCdnDomainConfigRequest()
    request.set_DomainNames(",".join(names))
    request.set_Functions(functions("https_origin_sni", enabled="on", https_origin_sni="v1.origin.example"))
    body = old_sdk_call(live_server, alice_key, request)
    assert [m["DomainName"] for m in body["DomainConfigList"]["DomainConfigModel"]] == names

    def status(name: str) -> str:
        request = DescribeCdnDomainConfigsRequest()
        request.set_DomainName(name)
        request.set_FunctionNames("https_origin_sni")
        [config] = old_sdk_call(live_server, alice_key, request)["DomainConfigs"]["DomainConfig"]
        return config["Status"]

    assert [status(name) for name in names] == ["configuring", "configuring"]
    late.start()
    for name in names:
        wait_for(lambda n=name: status(n) == "success", timeout=30, what=f"{name} applied")
        for agent in edge_agents:
            assert agent.held(name)["origin_sni"] == {"enabled": True, "name": "v1.origin.example"}
