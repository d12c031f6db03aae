"""The CDN and DCDN actions: shapes, functions, limits, all-or-nothing batches, delivery Status, ConfigIds."""

from __future__ import annotations

import json

import pytest

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import ConfiguredFunction, DomainStatus, OriginFetchSettings, OriginType, ProtocolPolicy
from edge.models import DeploymentStatus, EdgeNode, NodeDomainState
from edge.nodes import edge_node_create, edge_node_set_enabled
from tests import factories
from tests.alibaba_api.conftest import DCDN, SignedClient, functions


def batch_set(api: SignedClient, names: list[str], raw: str, **options):  # type: ignore[no-untyped-def]
    return api.call("BatchSetCdnDomainConfig", {"DomainNames": ",".join(names), "Functions": raw}, **options)


def configs(api: SignedClient, name: str, **params: str) -> list[dict]:
    answer = api.call("DescribeCdnDomainConfigs", {"DomainName": name, **params})
    assert answer.status == 200, answer.body
    return answer.body["DomainConfigs"]["DomainConfig"]


def args_of(config: dict) -> dict[str, str]:
    return {arg["ArgName"]: arg["ArgValue"] for arg in config["FunctionArgs"]["FunctionArg"]}


def settings_of(domain) -> OriginFetchSettings:  # type: ignore[no-untyped-def]
    return OriginFetchSettings.objects.get(domain=domain)


# BatchSet


def test_batch_set_turns_origin_sni_on_for_every_domain(api, alpha):
    domains = [factories.make_domain(account=alpha) for _ in range(3)]
    answer = batch_set(
        api,
        [d.name for d in domains],
        functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com"),
    )
    assert answer.status == 200
    models = answer.body["DomainConfigList"]["DomainConfigModel"]
    assert [(m["DomainName"], m["FunctionName"]) for m in models] == [
        (d.name, "https_origin_sni") for d in domains
    ]
    assert all(isinstance(m["ConfigId"], int) for m in models)
    for domain in domains:
        assert (settings_of(domain).sni_enabled, settings_of(domain).sni_name) == (True, "o.example.com")


def test_batch_set_is_all_or_nothing(api, alpha):
    good = factories.make_domain(account=alpha, name="good.alpha.example")
    plain_http = factories.make_domain(account=alpha, name="http.alpha.example", policy=ProtocolPolicy.HTTP)
    answer = batch_set(
        api,
        [good.name, plain_http.name],
        functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com"),
    )
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed")
    assert "Origin SNI requires back-to-origin over HTTPS (port 443)." in answer.body["Message"]
    assert plain_http.name in answer.body["Message"]
    assert not settings_of(good).sni_enabled
    assert not OperationLog.objects.filter(action="origin_sni.update").exists()
    assert good.revisions.count() == 0


def test_functions_apply_in_order_so_a_protocol_change_can_precede_sni(api, alpha):
    domain = factories.make_domain(account=alpha, policy=ProtocolPolicy.HTTP)
    raw = json.dumps(
        [
            {
                "functionName": "forward_scheme",
                "functionArgs": [
                    {"argName": "enable", "argValue": "on"},
                    {"argName": "scheme_origin", "argValue": "https"},
                    {"argName": "scheme_origin_port", "argValue": "443"},
                ],
            },
            {
                "functionName": "https_origin_sni",
                "functionArgs": [
                    {"argName": "enabled", "argValue": "on"},
                    {"argName": "https_origin_sni", "argValue": "o.example.com"},
                ],
            },
        ]
    )
    assert batch_set(api, [domain.name], raw).status == 200
    settings = settings_of(domain)
    assert (settings.forward_scheme, settings.sni_enabled) == ("https", True)


@pytest.mark.parametrize(
    ("sni", "rule"),
    [
        ("*.example.com", "Wildcard domain names are not supported."),
        ("203.0.113.5", "is an IP address"),
        ("https://o.example.com", "without a scheme"),
        ("o.example.com:443", "Remove the port"),
        ("", "The SNI is required when Origin SNI is on"),
    ],
)
def test_invalid_sni_names_get_the_rule_of_the_page(api, cdn_domain, sni, rule):
    answer = batch_set(
        api, [cdn_domain.name], functions("https_origin_sni", enabled="on", https_origin_sni=sni)
    )
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed")
    assert rule in answer.body["Message"]
    assert "https_origin_sni" in answer.body["Message"]
    assert not settings_of(cdn_domain).sni_enabled


def test_origin_sni_follows_the_shared_rules_per_origin(api, cdn_domain):
    answer = batch_set(
        api, [cdn_domain.name], functions("origin_sni", origin="203.0.113.10", sni_host="ali_follow_origin")
    )
    assert answer.code == "InvalidArgValue.Malformed"
    assert "this origin is an IP address" in answer.body["Message"]
    answer = batch_set(
        api, [cdn_domain.name], functions("origin_sni", origin="203.0.113.10", sni_host="*.a.com")
    )
    assert "Wildcard domain names are not supported." in answer.body["Message"]
    answer = batch_set(
        api, [cdn_domain.name], functions("origin_sni", origin="198.51.100.1", sni_host="a.b.com")
    )
    assert "has no origin 198.51.100.1" in answer.body["Message"]


def test_origin_sni_on_several_domains_is_all_or_nothing(api, alpha):
    first = factories.make_domain(account=alpha, origins=[(OriginType.DOMAIN, "a.origin.example", 443)])
    second = factories.make_domain(account=alpha, origins=[(OriginType.IPADDR, "198.51.100.9", 443)])
    answer = batch_set(
        api, [first.name, second.name], functions("origin_sni", origin="all", sni_host="ali_follow_origin")
    )
    assert answer.code == "InvalidArgValue.Malformed"
    assert second.name in answer.body["Message"]
    assert first.origins.get().sni_host == ""
    assert first.revisions.count() == 0
    assert not OperationLog.objects.filter(action="origin_sni_host.update").exists()


def test_origin_sni_for_all_origins_gives_one_config_per_origin(api, alpha):
    domain = factories.make_domain(
        account=alpha,
        origins=[(OriginType.DOMAIN, "a.origin.example", 443), (OriginType.DOMAIN, "b.origin.example", 443)],
    )
    answer = batch_set(api, [domain.name], functions("origin_sni", origin="all", sni_host="tls.example.com"))
    ids = [m["ConfigId"] for m in answer.body["DomainConfigList"]["DomainConfigModel"]]
    assert len(set(ids)) == 2
    listed = configs(api, domain.name, FunctionNames="origin_sni")
    assert sorted(int(c["ConfigId"]) for c in listed) == sorted(ids)
    assert {args_of(c)["origin"]: args_of(c)["sni_host"] for c in listed} == {
        "a.origin.example": "tls.example.com",
        "b.origin.example": "tls.example.com",
    }


def test_keepalive_sni_off_is_refused_with_the_reason(api, cdn_domain):
    answer = batch_set(
        api,
        [cdn_domain.name],
        functions("origin_sni", origin="all", sni_host="a.example.com", keepalive_sni="off"),
    )
    assert answer.code == "InvalidArgValue.Malformed"
    assert "keepalive_sni" in answer.body["Message"]


@pytest.mark.parametrize(
    ("raw", "code", "text"),
    [
        (functions("gzip", enable="on"), "InvalidFunction.NotSupported", "gzip"),
        ("not json", "InvalidFunctions.Malformed", "not valid JSON"),
        ("[]", "InvalidFunctions.Malformed", "non-empty"),
        ('[{"functionArgs": []}]', "InvalidFunctions.Malformed", "no functionName"),
        (
            functions("https_origin_sni", enabled="on", colour="red"),
            "FunctionArgError",
            "'colour' is not supported",
        ),
        (functions("https_origin_sni"), "FunctionArgError", "enabled is required"),
        (functions("forward_scheme", enable="on", scheme_origin="ftp"), "InvalidArgValue.Malformed", "ftp"),
        (
            functions("forward_scheme", enable="on", scheme_origin="follow", scheme_origin_port="443"),
            "InvalidArgValue.Malformed",
            "80:443",
        ),
        (
            functions("forward_scheme", enable="on", scheme_origin="https", scheme_origin_port="70000"),
            "InvalidArgValue.Malformed",
            "from 1 to 65535",
        ),
        (
            json.dumps([{"functionName": "https_origin_sni", "functionArgs": [], "parentId": 12}]),
            "InvalidFunctions.Malformed",
            "rule condition",
        ),
    ],
)
def test_bad_functions_get_the_vendor_code_and_a_reason(api, cdn_domain, raw, code, text):
    answer = batch_set(api, [cdn_domain.name], raw)
    assert (answer.status, answer.code) == (400, code)
    assert text in answer.body["Message"]


def test_limits_on_domains_and_functions(api, cdn_domain):
    one = functions("https_origin_sni", enabled="off")
    answer = batch_set(api, [f"d{i}.example.com" for i in range(51)], one)
    assert answer.code == "TooManyDomains"
    assert "At most 50 domain names" in answer.body["Message"]
    many = json.loads(one) * 51
    answer = batch_set(api, [cdn_domain.name], json.dumps(many))
    assert "At most 50 functions" in answer.body["Message"]
    answer = batch_set(api, [f"d{i}.example.com" for i in range(11)], json.dumps(json.loads(one) * 5))
    assert answer.code == "TooManyDomains"
    assert "11 x 5 = 55" in answer.body["Message"]


def test_another_accounts_domain_is_not_found_and_untouched(api, alice, charlie, cdn_domain):
    other = factories.make_domain(account=charlie.membership.account, name="secret.other.example")
    answer = batch_set(api, [cdn_domain.name, other.name], functions("https_origin_sni", enabled="off"))
    assert (answer.status, answer.code) == (404, "InvalidDomain.NotFound")
    assert other.name in answer.body["Message"]
    for action, params in [
        ("DescribeCdnDomainConfigs", {"DomainName": other.name}),
        ("DescribeCdnDomainDetail", {"DomainName": other.name}),
        ("DeleteSpecificConfig", {"DomainName": other.name, "ConfigId": "1"}),
    ]:
        assert api.call(action, params).code == "InvalidDomain.NotFound"
    assert api.call("DescribeUserDomains", {"DomainName": other.name}).body["TotalCount"] == 0


def test_writes_are_logged_with_the_openapi_source(api, alice, cdn_domain):
    batch_set(api, [cdn_domain.name], functions("set_req_host_header", domain_name="host.example.org"))
    entry = OperationLog.objects.get(domain=cdn_domain)
    assert (entry.source, entry.actor, entry.action) == (Source.OPENAPI, alice, "origin_host.update")
    assert cdn_domain.revisions.get().source == Source.OPENAPI


# Describe


def test_describe_lists_only_configured_functions_also_by_name(api, alpha):
    domain = factories.make_domain(
        account=alpha, policy=ProtocolPolicy.HTTPS, sni_enabled=True, sni_name="a.b.c"
    )
    assert configs(api, domain.name) == []
    assert configs(api, domain.name, FunctionNames="https_origin_sni,set_req_host_header") == []
    batch_set(api, [domain.name], functions("set_req_host_header", domain_name=domain.name))
    listed = configs(api, domain.name, FunctionNames="https_origin_sni,set_req_host_header")
    assert [c["FunctionName"] for c in listed] == ["set_req_host_header"]
    assert args_of(listed[0]) == {"domain_name": domain.name}
    assert {c["ParentId"] for c in listed} == {""}


def test_forward_scheme_round_trips(api, alpha):
    domain = factories.make_domain(account=alpha, policy=ProtocolPolicy.HTTP)
    for scheme, port, stored in [
        ("https", "8443", ("https", 80, 8443)),
        ("follow", "8080:443", ("follow", 8080, 443)),
        ("http", "81", ("http", 81, 443)),
    ]:
        answer = batch_set(
            api,
            [domain.name],
            functions("forward_scheme", enable="on", scheme_origin=scheme, scheme_origin_port=port),
        )
        assert answer.status == 200, answer.body
        settings = settings_of(domain)
        assert (settings.forward_scheme, settings.http_port, settings.https_port) == stored
        [config] = configs(api, domain.name, FunctionNames="forward_scheme")
        assert args_of(config) == {"enable": "on", "scheme_origin": scheme, "scheme_origin_port": port}
    # Off: no policy, each origin's own port decides (the vendor's default); the policy is kept for later.
    assert batch_set(api, [domain.name], functions("forward_scheme", enable="off")).status == 200
    settings = settings_of(domain)
    assert (settings.forward_scheme_enabled, settings.forward_scheme, settings.http_port) == (
        False,
        "http",
        81,
    )
    [config] = configs(api, domain.name)
    assert args_of(config) == {"enable": "off", "scheme_origin": "http", "scheme_origin_port": "81"}
    assert domain.revisions.latest("number").document["forward_scheme"]["enabled"] is False
    api.call("DeleteSpecificConfig", {"DomainName": domain.name, "ConfigId": str(config["ConfigId"])})
    assert configs(api, domain.name) == [] and settings_of(domain).forward_scheme_enabled


def test_forward_scheme_off_that_would_send_origin_sni_nowhere_is_refused(api, alpha):
    domain = factories.make_domain(
        account=alpha, origins=[("ipaddr", "203.0.113.10", 8443)], sni_enabled=True, sni_name="o.example.com"
    )
    answer = batch_set(api, [domain.name], functions("forward_scheme", enable="off"))
    assert answer.code == "InvalidArgValue.Malformed"
    assert answer.body["Message"].startswith(
        f"The specified ArgValue of enable in function forward_scheme for domain {domain.name} is invalid: "
        "Origin SNI is on, and with the origin protocol policy off"
    )
    assert settings_of(domain).forward_scheme_enabled


def test_origin_certificate_verification_round_trips(api, cdn_domain):
    batch_set(api, [cdn_domain.name], functions("origin_certificate_verification", enabled="on"))
    [config] = configs(api, cdn_domain.name, FunctionNames="origin_certificate_verification")
    assert args_of(config) == {"enabled": "on", "common_name_whitelist": ""}
    answer = batch_set(
        api,
        [cdn_domain.name],
        functions("origin_certificate_verification", enabled="off", common_name_whitelist=""),
    )
    assert answer.status == 200 and not settings_of(cdn_domain).verify_origin_cert


def test_a_common_name_whitelist_is_refused_with_the_rule(api, cdn_domain):
    answer = batch_set(
        api,
        [cdn_domain.name],
        functions(
            "origin_certificate_verification", enabled="on", common_name_whitelist="*.a.com, b.example.org"
        ),
    )
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed")
    assert answer.body["Message"].startswith(
        "The specified ArgValue of common_name_whitelist in function origin_certificate_verification for "
        f"domain {cdn_domain.name} is invalid: Extra acceptable common names are not supported: edge nodes "
        "verify the origin's certificate against the SNI they send"
    )
    assert not settings_of(cdn_domain).verify_origin_cert and not cdn_domain.revisions.exists()


def test_describe_by_config_id(api, cdn_domain):
    answer = batch_set(api, [cdn_domain.name], functions("set_req_host_header", domain_name="h.example.org"))
    config_id = answer.body["DomainConfigList"]["DomainConfigModel"][0]["ConfigId"]
    [config] = configs(api, cdn_domain.name, ConfigId=str(config_id))
    assert config["FunctionName"] == "set_req_host_header"
    # A ConfigId that is no configuration of the domain finds nothing, as Terraform reads "gone".
    assert configs(api, cdn_domain.name, ConfigId=str(config_id + 1)) == []
    assert api.call("DescribeCdnDomainConfigs", {"DomainName": cdn_domain.name, "ConfigId": "x"}).code == (
        "InvalidParameter"
    )


def test_config_ids_are_stable_and_name_their_domain_and_function(api, alpha):
    first = factories.make_domain(account=alpha)
    second = factories.make_domain(account=alpha)
    raw = functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com")
    ids = [
        m["ConfigId"]
        for m in batch_set(api, [first.name, second.name], raw).body["DomainConfigList"]["DomainConfigModel"]
    ]
    again = [
        m["ConfigId"]
        for m in batch_set(api, [first.name, second.name], raw).body["DomainConfigList"]["DomainConfigModel"]
    ]
    assert ids == again and ids[0] != ids[1]
    assert ConfiguredFunction.objects.get(pk=ids[0]).domain == first


def _deploy(domain, statuses: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Nodes added (each owed the latest revision), then what delivery recorded of each."""
    for index, status in enumerate(statuses):
        name = f"node-{domain.pk}-{index}"
        edge_node_create(
            name=name,
            region="",
            agent_url=f"http://127.0.0.1:{9000 + index}",
            signing_key="k",
            context=ChangeContext(None),
        )
        if status != DeploymentStatus.PENDING:
            factories.delivery_record(domain, name, status)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "success"),
        ([DeploymentStatus.APPLIED, DeploymentStatus.APPLIED], "success"),
        ([DeploymentStatus.APPLIED, DeploymentStatus.PENDING], "configuring"),
        ([DeploymentStatus.PENDING, DeploymentStatus.FAILED], "failed"),
    ],
)
def test_status_follows_the_deployments_of_the_latest_revision(api, cdn_domain, statuses, expected):
    batch_set(
        api, [cdn_domain.name], functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com")
    )
    cdn_domain.refresh_from_db()
    NodeDomainState.objects.all().delete()
    _deploy(cdn_domain, statuses)
    assert {c["Status"] for c in configs(api, cdn_domain.name)} == {expected}


def test_a_disabled_node_does_not_hold_the_status_back(api, cdn_domain):
    batch_set(
        api, [cdn_domain.name], functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com")
    )
    cdn_domain.refresh_from_db()
    _deploy(cdn_domain, [DeploymentStatus.APPLIED, DeploymentStatus.PENDING])
    pending = EdgeNode.objects.exclude(domain_states__applied_number=cdn_domain.config_revision).get()
    edge_node_set_enabled(node=pending, enabled=False, context=ChangeContext(None))
    assert {c["Status"] for c in configs(api, cdn_domain.name)} == {"success"}


# Delete


def test_delete_specific_config_resets_functions_in_a_safe_order(api, cdn_domain):
    raw = json.dumps(
        [
            {
                "functionName": "https_origin_sni",
                "functionArgs": [
                    {"argName": "enabled", "argValue": "on"},
                    {"argName": "https_origin_sni", "argValue": "o.example.com"},
                ],
            },
            {
                "functionName": "forward_scheme",
                "functionArgs": [
                    {"argName": "enable", "argValue": "on"},
                    {"argName": "scheme_origin", "argValue": "follow"},
                ],
            },
        ]
    )
    models = batch_set(api, [cdn_domain.name], raw).body["DomainConfigList"]["DomainConfigModel"]
    ids = ",".join(str(m["ConfigId"]) for m in reversed(models))
    answer = api.call("DeleteSpecificConfig", {"DomainName": cdn_domain.name, "ConfigId": ids})
    assert answer.status == 200 and list(answer.body) == ["RequestId"]
    settings = settings_of(cdn_domain)
    assert (settings.sni_enabled, settings.forward_scheme) == (False, "http")
    assert configs(api, cdn_domain.name) == []


def test_delete_of_a_protocol_that_origin_sni_needs_is_refused_with_the_rule(api, cdn_domain):
    batch_set(api, [cdn_domain.name], functions("forward_scheme", enable="on", scheme_origin="https"))
    batch_set(
        api, [cdn_domain.name], functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com")
    )
    [forward] = configs(api, cdn_domain.name, FunctionNames="forward_scheme")
    answer = api.call(
        "DeleteSpecificConfig", {"DomainName": cdn_domain.name, "ConfigId": forward["ConfigId"]}
    )
    assert answer.code == "InvalidArgValue.Malformed"
    assert "Turn off Origin SNI first" in answer.body["Message"]
    assert settings_of(cdn_domain).forward_scheme == "https"


def test_delete_specific_config_refuses_ids_of_other_domains(api, alpha, cdn_domain):
    other = factories.make_domain(account=alpha)
    raw = functions("set_req_host_header", domain_name="h.example.org")
    config_id = batch_set(api, [other.name], raw).body["DomainConfigList"]["DomainConfigModel"][0]["ConfigId"]
    answer = api.call("DeleteSpecificConfig", {"DomainName": cdn_domain.name, "ConfigId": str(config_id)})
    assert (answer.status, answer.code) == (404, "InvalidConfigId.NotFound")
    assert settings_of(other).origin_host == "h.example.org"


def test_delete_specific_config_of_one_origin_keeps_the_others(api, alpha):
    domain = factories.make_domain(
        account=alpha,
        origins=[(OriginType.DOMAIN, "a.origin.example", 443), (OriginType.DOMAIN, "b.origin.example", 443)],
    )
    models = batch_set(
        api, [domain.name], functions("origin_sni", origin="all", sni_host="t.example.com")
    ).body["DomainConfigList"]["DomainConfigModel"]
    api.call("DeleteSpecificConfig", {"DomainName": domain.name, "ConfigId": str(models[0]["ConfigId"])})
    assert dict(domain.origins.values_list("address", "sni_host")) == {
        "a.origin.example": "",
        "b.origin.example": "t.example.com",
    }


def test_batch_delete_resets_functions_on_every_domain(api, alpha):
    domains = [factories.make_domain(account=alpha) for _ in range(2)]
    names = [d.name for d in domains]
    batch_set(api, names, functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com"))
    answer = api.call(
        "BatchDeleteCdnDomainConfig", {"DomainNames": ",".join(names), "FunctionNames": "https_origin_sni"}
    )
    assert answer.status == 200
    assert [settings_of(d).sni_enabled for d in domains] == [False, False]
    assert api.call(
        "BatchDeleteCdnDomainConfig", {"DomainNames": names[0], "FunctionNames": "gzip"}
    ).code == ("InvalidFunction.NotSupported")


# Domains


def test_describe_user_domains_has_the_vendor_shape(api, cdn_domain):
    body = api.call("DescribeUserDomains").body
    assert (body["PageNumber"], body["PageSize"], body["TotalCount"]) == (1, 20, 1)
    [item] = body["Domains"]["PageData"]
    assert set(item) == {
        "DomainName",
        "Cname",
        "CdnType",
        "DomainStatus",
        "GmtCreated",
        "GmtModified",
        "Description",
        "Coverage",
        "SslProtocol",
        "Sources",
    }
    assert item["Sources"]["Source"] == [
        {"Type": "ipaddr", "Content": "203.0.113.10", "Port": 443, "Priority": "20", "Weight": "10"}
    ]
    assert item["GmtCreated"].endswith("Z")


def test_describe_user_domains_costs_the_same_queries_for_any_page_size(
    api, alpha, django_assert_max_num_queries
):
    for _ in range(30):
        factories.make_domain(account=alpha)
    api.call("DescribeUserDomains")  # the key is loaded and cached
    with django_assert_max_num_queries(4):
        body = api.call("DescribeUserDomains", {"PageSize": "30"}).body
    assert len(body["Domains"]["PageData"]) == 30


def test_describe_user_domains_filters_by_status_and_coverage(api, alpha):
    offline = factories.make_domain(account=alpha)
    offline.status = DomainStatus.OFFLINE
    offline.coverage = "global"
    offline.save()
    factories.make_domain(account=alpha)
    assert api.call("DescribeUserDomains", {"DomainStatus": "offline"}).body["TotalCount"] == 1
    assert api.call("DescribeUserDomains", {"Coverage": "global"}).body["TotalCount"] == 1
    assert api.call("DescribeUserDomains", {"DomainStatus": "sleeping"}).code == "InvalidParameter"
    assert api.call("DescribeUserDomains", {"DomainSearchType": "regex"}).code == "InvalidParameter"
    assert api.call("DescribeUserDomains", {"PageSize": "0"}).code == "InvalidParameter"


def test_dcdn_actions_see_dcdn_domains_only(api, cdn_domain, dcdn_domain):
    api.version = DCDN
    body = api.call("DescribeDcdnUserDomains").body
    [item] = body["Domains"]["PageData"]
    assert item["DomainName"] == dcdn_domain.name
    assert "SSLProtocol" in item and "SslProtocol" not in item
    detail = api.call("DescribeDcdnDomainDetail", {"DomainName": dcdn_domain.name}).body["DomainDetail"]
    assert detail["Sources"]["Source"][0]["Content"] == "203.0.113.10"
    answer = api.call(
        "BatchSetDcdnDomainConfigs",
        {"DomainNames": cdn_domain.name, "Functions": functions("https_origin_sni", enabled="off")},
    )
    assert answer.code == "InvalidDomain.NotFound"
    answer = api.call(
        "BatchSetDcdnDomainConfigs",
        {
            "DomainNames": dcdn_domain.name,
            "Functions": functions("https_origin_sni", enabled="on", https_origin_sni="o.example.com"),
        },
    )
    assert answer.status == 200
    assert (
        api.call(
            "DeleteDcdnSpecificConfig",
            {
                "DomainName": dcdn_domain.name,
                "ConfigId": str(answer.body["DomainConfigList"]["DomainConfigModel"][0]["ConfigId"]),
            },
        ).status
        == 200
    )
    assert not settings_of(dcdn_domain).sni_enabled
    assert (
        api.call(
            "BatchDeleteDcdnDomainConfigs",
            {"DomainNames": dcdn_domain.name, "FunctionNames": "forward_scheme"},
        ).status
        == 200
    )


def test_describe_cdn_domain_detail_has_the_vendor_shape(api, cdn_domain):
    model = api.call("DescribeCdnDomainDetail", {"DomainName": cdn_domain.name}).body["GetDomainDetailModel"]
    assert set(model) == {
        "CdnType",
        "Cname",
        "Description",
        "DomainName",
        "DomainStatus",
        "GmtCreated",
        "GmtModified",
        "HttpsCname",
        "Scope",
        "ServerCertificateStatus",
        "SourceModels",
    }
    assert model["SourceModels"]["SourceModel"][0] == {
        "Content": "203.0.113.10",
        "Enabled": "online",
        "Port": 443,
        "Priority": "20",
        "Type": "ipaddr",
        "Weight": "10",
    }
