"""The official Alibaba Cloud SDKs against a live console: V3, V1 (new SDK in v2 mode, old core SDK), DCDN."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import httpx
import pytest
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_cdn20180510.client import Client as CdnClient
from alibabacloud_dcdn20180115 import models as dcdn_models
from alibabacloud_dcdn20180115.client import Client as DcdnClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import Config
from aliyunsdkcdn.request.v20180510.BatchSetCdnDomainConfigRequest import BatchSetCdnDomainConfigRequest
from aliyunsdkcdn.request.v20180510.DescribeCdnDomainConfigsRequest import DescribeCdnDomainConfigsRequest
from aliyunsdkcdn.request.v20180510.DescribeUserDomainsRequest import DescribeUserDomainsRequest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from darabonba.core import DaraCore

from accounts.models import OperationLog, Source
from domains.models import BusinessType, DomainStatus, OriginFetchSettings, OriginType
from tests import factories
from tests.alibaba_api.conftest import Key, functions

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


@pytest.fixture
def endpoint(live_server) -> str:
    """`127.0.0.1:PORT`: the SDKs put the endpoint in the (signed) Host header."""
    return f"127.0.0.1:{urlparse(live_server.url).port}"


def cdn(endpoint: str, key: Key, *, v1: bool = False, secret: str | None = None) -> CdnClient:
    config = Config(
        access_key_id=key.access_key_id,
        access_key_secret=secret or key.secret,
        endpoint=endpoint,
        protocol="http",
        signature_algorithm="v2" if v1 else None,
    )
    return CdnClient(config)


def dcdn(endpoint: str, key: Key) -> DcdnClient:
    return DcdnClient(
        Config(
            access_key_id=key.access_key_id, access_key_secret=key.secret, endpoint=endpoint, protocol="http"
        )
    )


def old_sdk(endpoint: str, key: Key, request: Any, *, secret: str | None = None) -> dict[str, Any]:
    request.set_endpoint(endpoint)
    request.set_protocol_type("http")
    client = AcsClient(key.access_key_id, secret or key.secret, "cn-hangzhou", auto_retry=False)
    try:
        return json.loads(client.do_action_with_exception(request))
    finally:
        client.session.close()


def set_config(client: CdnClient, domains: list[str], name: str, **args: str) -> list[Any]:
    request = cdn_models.BatchSetCdnDomainConfigRequest(
        domain_names=",".join(domains), functions=functions(name, **args)
    )
    return client.batch_set_cdn_domain_config(request).body.domain_config_list.domain_config_model


def configs(client: CdnClient, domain: str, names: str | None = None) -> dict[str, Any]:
    request = cdn_models.DescribeCdnDomainConfigsRequest(domain_name=domain, function_names=names)
    body = client.describe_cdn_domain_configs(request).body
    return {
        config.function_name: config
        for config in body.domain_configs.domain_config
        if config.function_name != "origin_sni"
    } | {
        f"origin_sni:{_args(config)['origin']}": config
        for config in body.domain_configs.domain_config
        if config.function_name == "origin_sni"
    }


def _args(config: Any) -> dict[str, str]:
    return {arg.arg_name: arg.arg_value for arg in config.function_args.function_arg}


def refused(call: Callable[[], object]) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("v1", [False, True], ids=["v3", "v1"])
def test_forward_scheme_origin_host_and_origin_sni_round_trip(endpoint, alice_key, alpha, v1):
    domain = factories.make_domain(
        account=alpha,
        name="rt.alpha.example",
        origins=[(OriginType.DOMAIN, "origin-a.example.net", 443), (OriginType.IPADDR, "198.51.100.7", 443)],
    )
    client = cdn(endpoint, alice_key, v1=v1)

    set_config(
        client,
        [domain.name],
        "forward_scheme",
        enable="on",
        scheme_origin="follow",
        scheme_origin_port="80:443",
    )
    set_config(client, [domain.name], "set_req_host_header", domain_name="host.example.org")
    models = set_config(
        client, [domain.name], "origin_sni", origin="origin-a.example.net", sni_host="ali_follow_origin"
    )
    set_config(client, [domain.name], "origin_sni", origin="198.51.100.7", sni_host="tls.example.org")

    found = configs(client, domain.name)
    assert _args(found["forward_scheme"]) == {
        "enable": "on",
        "scheme_origin": "follow",
        "scheme_origin_port": "80:443",
    }
    assert _args(found["set_req_host_header"]) == {"domain_name": "host.example.org"}
    assert _args(found["origin_sni:origin-a.example.net"])["sni_host"] == "ali_follow_origin"
    assert _args(found["origin_sni:198.51.100.7"])["sni_host"] == "tls.example.org"
    assert found["origin_sni:origin-a.example.net"].config_id == str(models[0].config_id)
    assert found["origin_sni:origin-a.example.net"].config_id != found["origin_sni:198.51.100.7"].config_id
    assert {config.status for config in found.values()} == {"success"}

    settings = OriginFetchSettings.objects.get(domain=domain)
    assert (settings.forward_scheme, settings.http_port, settings.https_port) == ("follow", 80, 443)
    assert settings.origin_host == "host.example.org"


def test_setting_a_function_again_keeps_its_config_id(endpoint, alice_key, cdn_domain):
    client = cdn(endpoint, alice_key)
    first = set_config(
        client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="a.example.com"
    )
    again = set_config(
        client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="b.example.com"
    )
    assert first[0].config_id == again[0].config_id
    assert _args(configs(client, cdn_domain.name)["https_origin_sni"])["https_origin_sni"] == "b.example.com"


def test_the_new_sdk_in_v2_signature_mode_sets_and_describes_origin_sni(endpoint, alice_key, cdn_domain):
    client = cdn(endpoint, alice_key, v1=True)
    set_config(
        client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="origin.example.com"
    )
    found = configs(client, cdn_domain.name, "https_origin_sni")
    assert _args(found["https_origin_sni"]) == {"enabled": "on", "https_origin_sni": "origin.example.com"}


def test_the_old_core_sdk_sets_describes_and_lists(endpoint, alice_key, cdn_domain):
    request = BatchSetCdnDomainConfigRequest()
    request.set_DomainNames(cdn_domain.name)
    request.set_Functions(functions("https_origin_sni", enabled="on", https_origin_sni="origin.example.com"))
    body = old_sdk(endpoint, alice_key, request)
    assert body["DomainConfigList"]["DomainConfigModel"][0]["FunctionName"] == "https_origin_sni"

    request = DescribeCdnDomainConfigsRequest()
    request.set_DomainName(cdn_domain.name)
    request.set_FunctionNames("https_origin_sni")
    body = old_sdk(endpoint, alice_key, request)
    [config] = body["DomainConfigs"]["DomainConfig"]
    assert {a["ArgName"]: a["ArgValue"] for a in config["FunctionArgs"]["FunctionArg"]} == {
        "enabled": "on",
        "https_origin_sni": "origin.example.com",
    }

    request = DescribeUserDomainsRequest()
    request.set_PageSize(50)
    body = old_sdk(endpoint, alice_key, request)
    assert [item["DomainName"] for item in body["Domains"]["PageData"]] == [cdn_domain.name]


def test_the_old_core_sdk_reports_errors_with_the_vendor_codes(endpoint, alice_key, charlie):
    other = factories.make_domain(account=charlie.membership.account, name="secret.other.example")
    request = DescribeCdnDomainConfigsRequest()
    request.set_DomainName(other.name)
    with pytest.raises(ServerException) as caught:
        old_sdk(endpoint, alice_key, request)
    assert caught.value.get_error_code() == "InvalidDomain.NotFound"
    assert caught.value.get_http_status() == 404

    request = DescribeCdnDomainConfigsRequest()
    request.set_DomainName(other.name)
    with pytest.raises(ServerException) as caught:
        old_sdk(endpoint, alice_key, request, secret="not-the-secret")
    # The old SDK recognises its own string to sign in the message and renames the code.
    assert caught.value.get_error_code() == "InvalidAccessKeySecret"


def test_the_dcdn_sdk_lists_describes_and_sets(endpoint, alice_key, dcdn_domain, cdn_domain):
    client = dcdn(endpoint, alice_key)
    listed = client.describe_dcdn_user_domains(dcdn_models.DescribeDcdnUserDomainsRequest(page_size=10)).body
    assert [item.domain_name for item in listed.domains.page_data] == [dcdn_domain.name]
    assert listed.domains.page_data[0].sslprotocol == "off"
    assert listed.domains.page_data[0].sources.source[0].port == 443

    client.batch_set_dcdn_domain_configs(
        dcdn_models.BatchSetDcdnDomainConfigsRequest(
            domain_names=dcdn_domain.name,
            functions=functions("https_origin_sni", enabled="on", https_origin_sni="origin.example.com"),
        )
    )
    body = client.describe_dcdn_domain_configs(
        dcdn_models.DescribeDcdnDomainConfigsRequest(
            domain_name=dcdn_domain.name, function_names="https_origin_sni"
        )
    ).body
    assert _args(body.domain_configs.domain_config[0])["https_origin_sni"] == "origin.example.com"

    detail = client.describe_dcdn_domain_detail(
        dcdn_models.DescribeDcdnDomainDetailRequest(domain_name=dcdn_domain.name)
    ).body.domain_detail
    assert detail.domain_name == dcdn_domain.name
    assert detail.sources.source[0].content == "203.0.113.10"

    # A CDN domain is not a DCDN domain.
    error = refused(
        lambda: client.describe_dcdn_domain_detail(
            dcdn_models.DescribeDcdnDomainDetailRequest(domain_name=cdn_domain.name)
        )
    )
    assert error.code == "InvalidDomain.NotFound"


def test_describe_cdn_domain_detail_has_the_vendor_shape(endpoint, alice_key, cdn_domain):
    model = (
        cdn(endpoint, alice_key)
        .describe_cdn_domain_detail(cdn_models.DescribeCdnDomainDetailRequest(domain_name=cdn_domain.name))
        .body.get_domain_detail_model
    )
    assert (model.domain_name, model.cname, model.cdn_type, model.scope) == (
        cdn_domain.name,
        cdn_domain.cname,
        "web",
        "domestic",
    )
    [source] = model.source_models.source_model
    assert (source.content, source.port, source.priority, source.enabled) == (
        "203.0.113.10",
        443,
        "20",
        "online",
    )


def test_describe_user_domains_pages_and_filters(endpoint, alice_key, alpha, charlie):
    for index in range(25):
        domain = factories.make_domain(account=alpha, name=f"d{index:02}.shop.example")
        if index % 5 == 0:
            domain.status = DomainStatus.OFFLINE
            domain.business_type = BusinessType.DOWNLOAD
            domain.save()
    factories.make_domain(account=charlie.membership.account, name="d99.shop.example")
    factories.make_domain(account=alpha, name="api.other.example")
    factories.make_domain(account=alpha, name="dyn.shop.example", product="dcdn")
    client = cdn(endpoint, alice_key)

    def listing(**params: Any) -> Any:
        return client.describe_user_domains(cdn_models.DescribeUserDomainsRequest(**params)).body

    first = listing(page_size=10)
    assert (first.total_count, first.page_number, first.page_size) == (26, 1, 10)
    assert [d.domain_name for d in first.domains.page_data][:2] == ["api.other.example", "d00.shop.example"]
    last = listing(page_size=10, page_number=3)
    assert [d.domain_name for d in last.domains.page_data] == [f"d{i:02}.shop.example" for i in range(19, 25)]
    assert listing(page_size=10, page_number=4).domains.page_data == []

    assert listing(domain_name="shop", domain_search_type="fuzzy_match").total_count == 25
    assert listing(domain_name="d1", domain_search_type="pre_match").total_count == 10
    assert listing(domain_name="other.example", domain_search_type="suf_match").total_count == 1
    assert listing(domain_name="d03.shop.example").total_count == 1
    assert listing(domain_name="d03").total_count == 0
    assert listing(domain_status="offline").total_count == 5
    assert listing(cdn_type="download", domain_name="shop", domain_search_type="fuzzy_match").total_count == 5

    error = refused(lambda: listing(page_size=501))
    assert error.code == "InvalidParameter"
    assert "PageSize" in error.message


@pytest.mark.parametrize("v1", [False, True], ids=["v3", "v1"])
def test_a_wildcard_sni_is_refused_with_the_message_of_the_page(endpoint, alice_key, cdn_domain, v1):
    client = cdn(endpoint, alice_key, v1=v1)
    error = refused(
        lambda: set_config(
            client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="*.a.com"
        )
    )
    assert error.code == "InvalidArgValue.Malformed"
    assert error.status_code == 400
    assert "Wildcard domain names are not supported." in error.message
    assert "https_origin_sni" in error.message
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_the_sdk_turns_the_protocol_policy_off_and_gets_a_whitelist_refused(endpoint, alice_key, cdn_domain):
    client = cdn(endpoint, alice_key)
    set_config(client, [cdn_domain.name], "forward_scheme", enable="off")
    assert _args(configs(client, cdn_domain.name)["forward_scheme"])["enable"] == "off"
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).forward_scheme_enabled

    error = refused(
        lambda: set_config(
            client,
            [cdn_domain.name],
            "origin_certificate_verification",
            enabled="on",
            common_name_whitelist="*.example.org",
        )
    )
    assert (error.code, error.status_code) == ("InvalidArgValue.Malformed", 400)
    assert "common_name_whitelist" in error.message and "against the SNI" in error.message
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).verify_origin_cert


def test_bad_functions_are_refused_with_the_vendor_codes(endpoint, alice_key, cdn_domain):
    client = cdn(endpoint, alice_key)

    def batch(domains: str, raw: str) -> Any:
        return client.batch_set_cdn_domain_config(
            cdn_models.BatchSetCdnDomainConfigRequest(domain_names=domains, functions=raw)
        )

    error = refused(lambda: batch(cdn_domain.name, functions("gzip", enable="on")))
    assert error.code == "InvalidFunction.NotSupported"
    assert "gzip" in error.message and "https_origin_sni" in error.message

    error = refused(lambda: batch(cdn_domain.name, '[{"functionName": "https_origin_sni",'))
    assert error.code == "InvalidFunctions.Malformed"
    assert "not valid JSON" in error.message

    many = ",".join(f"d{i}.example.com" for i in range(51))
    error = refused(lambda: batch(many, functions("https_origin_sni", enabled="off")))
    assert error.code == "TooManyDomains"
    assert "At most 50 domain names" in error.message

    error = refused(lambda: batch(cdn_domain.name, functions("https_origin_sni", enabled="maybe")))
    assert error.code == "InvalidArgValue.Malformed"
    assert "use on or off" in error.message


def test_another_accounts_domain_is_not_found(endpoint, alice_key, charlie):
    other = factories.make_domain(account=charlie.membership.account, name="secret.other.example")
    client = cdn(endpoint, alice_key)
    for call in (
        lambda: configs(client, other.name),
        lambda: set_config(client, [other.name], "https_origin_sni", enabled="off"),
    ):
        error = refused(call)
        assert error.code == "InvalidDomain.NotFound"
        assert error.status_code == 404
    assert not OperationLog.objects.filter(domain=other).exists()


@pytest.mark.parametrize("v1", [False, True], ids=["v3", "v1"])
def test_a_wrong_secret_does_not_match(endpoint, alice_key, cdn_domain, v1):
    client = cdn(endpoint, alice_key, v1=v1, secret="wrong-secret-wrong-secret-wron")
    error = refused(lambda: configs(client, cdn_domain.name))
    assert error.code == "SignatureDoesNotMatch"
    assert "Specified signature is not matched with our calculation." in error.message


def test_a_replayed_request_is_refused(endpoint, alice_key, cdn_domain):
    sent: list[tuple[str, dict[str, str]]] = []
    do_action = DaraCore.do_action

    def capture(request: Any, runtime: Any = None) -> Any:
        sent.append((DaraCore.compose_url(request), dict(request.headers)))
        return do_action(request, runtime)

    with mock.patch.object(DaraCore, "do_action", side_effect=capture):
        configs(cdn(endpoint, alice_key), cdn_domain.name)
    [(url, headers)] = sent

    replay = httpx.post(url, headers=headers)
    assert replay.status_code == 400
    assert replay.json()["Code"] == "SignatureNonceUsed"
    assert set(replay.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_an_old_timestamp_is_refused(endpoint, alice_key, cdn_domain):
    with mock.patch.object(Utils, "get_timestamp", return_value="2020-01-01T00:00:00Z"):
        error = refused(lambda: configs(cdn(endpoint, alice_key), cdn_domain.name))
    assert error.code == "InvalidTimeStamp.Expired"
    assert "behind the server time" in error.message


def test_a_viewers_key_reads_but_cannot_write(endpoint, bob_key, cdn_domain):
    client = cdn(endpoint, bob_key)
    assert configs(client, cdn_domain.name) == {}  # read, and nothing configured yet
    error = refused(
        lambda: set_config(
            client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="a.example.com"
        )
    )
    assert error.code == "Forbidden.RAM"
    assert error.status_code == 403
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_changes_are_logged_with_the_openapi_source(endpoint, alice_key, alice, cdn_domain):
    client = cdn(endpoint, alice_key)
    set_config(
        client, [cdn_domain.name], "https_origin_sni", enabled="on", https_origin_sni="origin.example.com"
    )
    entry = OperationLog.objects.get(domain=cdn_domain, action="origin_sni.update")
    assert (entry.source, entry.actor, entry.remote_addr) == (Source.OPENAPI, alice, "127.0.0.1")
    assert entry.after == {"sni_enabled": True, "sni_name": "origin.example.com"}


def test_delete_specific_config_and_batch_delete_reset_functions(endpoint, alice_key, cdn_domain):
    client = cdn(endpoint, alice_key)
    [host] = set_config(client, [cdn_domain.name], "set_req_host_header", domain_name="host.example.org")
    set_config(
        client,
        [cdn_domain.name],
        "origin_certificate_verification",
        enabled="on",
        common_name_whitelist="",
    )
    assert {"set_req_host_header", "origin_certificate_verification"} <= set(configs(client, cdn_domain.name))

    client.delete_specific_config(
        cdn_models.DeleteSpecificConfigRequest(domain_name=cdn_domain.name, config_id=str(host.config_id))
    )
    assert "set_req_host_header" not in configs(client, cdn_domain.name)

    client.batch_delete_cdn_domain_config(
        cdn_models.BatchDeleteCdnDomainConfigRequest(
            domain_names=cdn_domain.name, function_names="origin_certificate_verification"
        )
    )
    assert "origin_certificate_verification" not in configs(client, cdn_domain.name)
    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.origin_host, settings.verify_origin_cert) == ("", False)
