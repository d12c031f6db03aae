"""Config functions as the vendor keeps them: a function exists once configured (by any entry point), keeps
its ConfigId until it is deleted, is absent afterwards (from the list, by name and by ConfigId), and comes
back with a new ConfigId when configured again."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from domains.models import OriginFetchSettings, OriginType
from domains.origin_services import OriginInput, origin_remove
from domains.services import domain_create
from origin_fetch.history import domain_rollback
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import origin_host_update
from tests import factories
from tests.alibaba_api.conftest import SignedClient, functions

ARGS = {
    "https_origin_sni": {"enabled": "on", "https_origin_sni": "tls.example.org"},
    "forward_scheme": {"enable": "on", "scheme_origin": "follow", "scheme_origin_port": "80:443"},
    "set_req_host_header": {"domain_name": "host.example.org"},
    "origin_certificate_verification": {"enabled": "on", "common_name_whitelist": ""},
    "origin_sni": {"origin": "origin-a.example.net", "sni_host": "ali_follow_origin"},
}


def configure(api: SignedClient, name: str, function: str) -> int:
    answer = api.call(
        "BatchSetCdnDomainConfig", {"DomainNames": name, "Functions": functions(function, **ARGS[function])}
    )
    assert answer.status == 200, answer.body
    [model] = answer.body["DomainConfigList"]["DomainConfigModel"]
    return int(model["ConfigId"])


def listed(api: SignedClient, name: str, **params: str) -> dict[str, int]:
    answer = api.call("DescribeCdnDomainConfigs", {"DomainName": name, **params})
    assert answer.status == 200, answer.body
    return {
        config["FunctionName"]: int(config["ConfigId"])
        for config in answer.body["DomainConfigs"]["DomainConfig"]
    }


@pytest.fixture
def domain(alpha):  # type: ignore[no-untyped-def]
    return factories.make_domain(
        account=alpha,
        name="cfg.alpha.example",
        origins=[(OriginType.DOMAIN, "origin-a.example.net", 443), (OriginType.IPADDR, "198.51.100.7", 443)],
    )


@pytest.mark.parametrize("function", list(ARGS))
@pytest.mark.parametrize("deletion", ["DeleteSpecificConfig", "BatchDeleteCdnDomainConfig"])
def test_a_function_lives_from_configure_to_delete_and_returns_with_a_new_config_id(
    api, domain, function, deletion
):
    assert listed(api, domain.name) == {}
    config_id = configure(api, domain.name, function)
    assert listed(api, domain.name) == {function: config_id}
    assert configure(api, domain.name, function) == config_id  # set again: the same configuration
    assert listed(api, domain.name, FunctionNames=function) == {function: config_id}
    assert listed(api, domain.name, ConfigId=str(config_id)) == {function: config_id}

    if deletion == "DeleteSpecificConfig":
        params = {"DomainName": domain.name, "ConfigId": str(config_id)}
    else:
        params = {"DomainNames": domain.name, "FunctionNames": function}
    assert api.call(deletion, params).status == 200
    assert listed(api, domain.name) == {}
    assert listed(api, domain.name, FunctionNames=function) == {}
    assert listed(api, domain.name, ConfigId=str(config_id)) == {}
    again = api.call("DeleteSpecificConfig", {"DomainName": domain.name, "ConfigId": str(config_id)})
    assert (again.status, again.code) == (404, "InvalidConfigId.NotFound")

    renewed = configure(api, domain.name, function)
    assert renewed != config_id
    assert listed(api, domain.name) == {function: renewed}


def test_a_deleted_function_is_back_at_its_defaults(api, domain):
    configure(api, domain.name, "set_req_host_header")
    api.call(
        "BatchDeleteCdnDomainConfig", {"DomainNames": domain.name, "FunctionNames": "set_req_host_header"}
    )
    assert OriginFetchSettings.objects.get(domain=domain).origin_host == ""


def test_a_new_domain_has_no_configured_function_whatever_its_origins_imply(api, alpha, alice):
    created = domain_create(
        account=alpha,
        name="fresh.alpha.example",
        product="cdn",
        business_type="web",
        coverage="domestic",
        origins=[OriginInput("ipaddr", "198.51.100.1", 443)],
        context=ChangeContext(alice),
    )
    assert OriginFetchSettings.objects.get(domain=created).forward_scheme == "https"
    assert listed(api, created.name) == {}


def test_a_function_set_on_the_page_shows_in_describe_and_stays_when_turned_off(api, domain, alice):
    page = Client()
    page.force_login(alice)
    url = reverse("origin_fetch:origin_sni_dialog", kwargs={"product": "cdn", "name": domain.name})

    def save(**data: str) -> None:
        version = OriginFetchSettings.objects.get(domain=domain).version
        response = page.post(url, {"version": version, **data}, HTTP_HX_REQUEST="true")
        assert response.status_code == 204, response.content

    save(enabled="on", name="page.example.org")
    [config_id] = listed(api, domain.name).values()
    # Turned off on the page, as the vendor's console does it: still configured, `enabled` off.
    save(name="page.example.org")
    answer = api.call(
        "DescribeCdnDomainConfigs", {"DomainName": domain.name, "FunctionNames": "https_origin_sni"}
    )
    [config] = answer.body["DomainConfigs"]["DomainConfig"]
    assert int(config["ConfigId"]) == config_id
    assert {a["ArgName"]: a["ArgValue"] for a in config["FunctionArgs"]["FunctionArg"]}["enabled"] == "off"


def test_a_function_set_through_rest_shows_in_describe(api, domain, alice):
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_token(alice)}")
    url = f"/api/v1/domains/{domain.name}/origin-fetch/protocol/"
    body = {"forward_scheme": "follow", "http_port": 8080, "https_port": 443}
    assert rest.put(url, body, format="json", HTTP_IF_MATCH=rest.get(url)["ETag"]).status_code == 200
    assert list(listed(api, domain.name)) == ["forward_scheme"]


def test_an_origins_sni_is_configured_while_set_and_goes_with_the_origin(api, domain, alice):
    origin = domain.origins.get(address="origin-a.example.net")
    other = domain.origins.get(address="198.51.100.7")
    origin_sni_host_update(origin=origin, sni_host="a.example.org", context=ChangeContext(alice))
    origin_sni_host_update(origin=other, sni_host="b.example.org", context=ChangeContext(alice))
    first = api.call("DescribeCdnDomainConfigs", {"DomainName": domain.name}).body["DomainConfigs"][
        "DomainConfig"
    ]
    ids = {c["FunctionArgs"]["FunctionArg"][0]["ArgValue"]: int(c["ConfigId"]) for c in first}
    assert set(ids) == {"origin-a.example.net", "198.51.100.7"}

    # Modifying the domain's origins keeps an origin that stays, and its configuration.
    raw = json.dumps(
        [
            {"type": "domain", "content": "origin-a.example.net", "port": 443},
            {"type": "ipaddr", "content": "198.51.100.7", "port": 443},
            {"type": "ipaddr", "content": "198.51.100.9", "port": 443},
        ]
    )
    assert api.call("ModifyCdnDomain", {"DomainName": domain.name, "Sources": raw}).status == 200
    again = api.call("DescribeCdnDomainConfigs", {"DomainName": domain.name}).body["DomainConfigs"][
        "DomainConfig"
    ]
    assert sorted(int(c["ConfigId"]) for c in again) == sorted(ids.values())

    # Back to the domain's Origin SNI: no configuration; the origin removed: none either.
    origin_sni_host_update(origin=origin, sni_host="", context=ChangeContext(alice))
    origin_remove(origin=other, context=ChangeContext(alice))
    assert listed(api, domain.name) == {}


def test_a_rollback_configures_what_it_changes_and_origins_follow_their_sni(api, domain, alice):
    origin = domain.origins.get(address="origin-a.example.net")
    origin_sni_host_update(
        origin=origin, sni_host="a.example.org", context=ChangeContext(alice)
    )  # revision 1
    origin_host_update(domain=domain, host="host.example.org", context=ChangeContext(alice))  # revision 2
    api.call(
        "BatchDeleteCdnDomainConfig",
        {"DomainNames": domain.name, "FunctionNames": "origin_sni,set_req_host_header"},
    )
    assert listed(api, domain.name) == {}

    domain_rollback(domain=domain, number=2, context=ChangeContext(alice))
    assert set(listed(api, domain.name)) == {"origin_sni", "set_req_host_header"}
    domain_rollback(domain=domain, number=1, context=ChangeContext(alice))
    assert set(listed(api, domain.name)) == {"origin_sni", "set_req_host_header"}
    assert OriginFetchSettings.objects.get(domain=domain).origin_host == ""


def test_a_config_id_from_terraform_sets_that_configuration_again(api, domain):
    config_id = configure(api, domain.name, "origin_sni")
    item = [
        {
            "functionName": "origin_sni",
            "configId": config_id,
            "functionArgs": [{"argName": "sni_host", "argValue": "again.example.org"}],
        }
    ]
    answer = api.call("BatchSetCdnDomainConfig", {"DomainNames": domain.name, "Functions": json.dumps(item)})
    assert answer.body["DomainConfigList"]["DomainConfigModel"][0]["ConfigId"] == config_id
    assert domain.origins.get(address="origin-a.example.net").sni_host == "again.example.org"

    other = configure(api, domain.name, "set_req_host_header")
    item[0]["configId"] = other
    answer = api.call("BatchSetCdnDomainConfig", {"DomainNames": domain.name, "Functions": json.dumps(item)})
    assert answer.code == "InvalidFunctions.Malformed"
    assert f"configId {other} is not a ConfigId of origin_sni" in answer.body["Message"]
