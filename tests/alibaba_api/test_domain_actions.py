"""The domain lifecycle actions: shapes, every refusal with the vendor's code and the rule, strangers and
viewers."""

from __future__ import annotations

import json

import pytest

from accounts.models import OperationLog
from alibaba_api.actions import ACTIONS
from domains.models import Domain, DomainStatus, DomainTag, Origin
from tests import factories
from tests.alibaba_api.conftest import CDN, DCDN, SignedClient


def sources(*items: tuple[str, str, int]) -> str:
    return json.dumps(
        [{"type": t, "content": c, "port": p, "priority": "20", "weight": "10"} for t, c, p in items]
    )


ONE_SOURCE = sources(("ipaddr", "198.51.100.1", 80))


def add(api: SignedClient, name: str, raw: str = ONE_SOURCE, **params: str):  # type: ignore[no-untyped-def]
    return api.call("AddCdnDomain", {"DomainName": name, "CdnType": "web", "Sources": raw, **params})


def test_add_cdn_domain_creates_the_domain_with_its_origins_and_tags(api, alpha):
    raw = json.dumps(
        [
            {"Weight": 10, "type": "domain", "content": "origin.example.net", "priority": 20, "port": 443},
            {"type": "ipaddr", "content": "198.51.100.9", "priority": "30", "port": "8080", "weight": "40"},
        ]
    )
    answer = add(api, "new.alpha.example", raw, Scope="global", **{"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    assert (answer.status, list(answer.body)) == (200, ["RequestId"])
    domain = Domain.objects.get(name="new.alpha.example")
    assert (domain.account, domain.business_type, domain.coverage) == (alpha, "web", "global")
    assert sorted(domain.origins.values_list("type", "address", "port", "priority", "weight")) == [
        ("domain", "origin.example.net", 443, 20, 10),
        ("ipaddr", "198.51.100.9", 8080, 30, 40),
    ]
    assert dict(domain.tags.values_list("key", "value")) == {"env": "prod"}
    detail = api.call("DescribeCdnDomainDetail", {"DomainName": domain.name}).body["GetDomainDetailModel"]
    assert (detail["DomainStatus"], detail["Cname"], detail["Scope"]) == ("online", domain.cname, "global")


def test_a_wildcard_is_written_as_the_vendor_writes_it(api):
    assert add(api, ".wild.alpha.example").status == 200
    assert Domain.objects.filter(name="*.wild.alpha.example").exists()
    detail = api.call("DescribeCdnDomainDetail", {"DomainName": ".wild.alpha.example"})
    assert detail.body["GetDomainDetailModel"]["DomainName"] == "*.wild.alpha.example"


def test_add_dcdn_domain_is_dynamic(api):
    api.version = DCDN
    answer = api.call("AddDcdnDomain", {"DomainName": "dyn.alpha.example", "Sources": ONE_SOURCE})
    assert answer.status == 200
    assert Domain.objects.get(name="dyn.alpha.example").business_type == "dynamic"
    assert api.call("DescribeDcdnDomainDetail", {"DomainName": "dyn.alpha.example"}).status == 200


@pytest.mark.parametrize(
    ("params", "code", "rule"),
    [
        ({"DomainName": ""}, "MissingParameter", "DomainName"),
        ({"CdnType": ""}, "MissingParameter", "CdnType"),
        ({"Sources": ""}, "MissingParameter", "Sources"),
        ({"CdnType": "dynamic"}, "InvalidParameter", "CdnType"),
        ({"Scope": "moon"}, "InvalidParameter", "use one of domestic, overseas, global"),
        ({"DomainName": "https://x.example.com"}, "InvalidParameter", "without a scheme"),
        ({"DomainName": "a.*.example.com"}, "InvalidParameter", "only as the whole first label"),
        ({"Sources": "[{"}, "InvalidSources.Malformed", "not valid JSON"),
        ({"Sources": "[]"}, "InvalidSources.Malformed", "non-empty JSON array"),
        ({"Sources": '[{"type": "ipaddr"}]'}, "InvalidSources.Malformed", "source 1 has no content"),
        (
            {"Sources": '[{"type": "ipaddr", "content": "1.2.3.4", "port": "x"}]'},
            "InvalidSources.Malformed",
            "whole number",
        ),
        (
            {"Sources": '[{"type": "ipaddr", "content": "1.2.3.4", "colour": 1}]'},
            "InvalidSources.Malformed",
            "colour",
        ),
        (
            {"Sources": sources(("ipaddr", "origin.example.net", 80))},
            "InvalidSources.Malformed",
            "is not an IP address",
        ),
        (
            {"Sources": sources(("ipaddr", "1.2.3.4", 70000))},
            "InvalidSources.Malformed",
            "between 1 and 65535",
        ),
        ({"Sources": sources(("ftp", "1.2.3.4", 80))}, "InvalidSources.Malformed", "Choose the origin type"),
        (
            {"Sources": sources(("ipaddr", "1.2.3.4", 80), ("ipaddr", "1.2.3.4", 80))},
            "InvalidSources.Malformed",
            "source 2: The origin 1.2.3.4:80 is listed twice.",
        ),
        ({"Tag.1.Key": "aliyun:x", "Tag.1.Value": "v"}, "InvalidTagKey", "starts with aliyun or acs:"),
        ({"Tag.1.Key": "k", "Tag.1.Value": "see https://x"}, "InvalidTagValue", "http://, https://"),
    ],
)
def test_add_refusals_have_the_vendor_code_and_name_the_rule(api, params, code, rule):
    base = {"DomainName": "bad.alpha.example", "CdnType": "web", "Sources": ONE_SOURCE}
    answer = api.call("AddCdnDomain", base | params)
    assert (answer.status, answer.code) == (400, code), answer.body
    assert rule in answer.body["Message"]
    assert not Domain.objects.exists()


def test_too_many_tags_are_refused_and_nothing_is_added(api):
    tags = {f"Tag.{i}.Key": f"k{i}" for i in range(1, 22)}
    answer = add(api, "tags.alpha.example", **tags)
    assert (answer.status, answer.code) == (400, "TooManyTags")
    assert "At most 20 tags" in answer.body["Message"]
    assert not Domain.objects.filter(name="tags.alpha.example").exists()


def test_a_name_already_added_is_refused_by_any_account(api, charlie):
    factories.make_domain(account=charlie.membership.account, name="taken.example.com")
    answer = add(api, "taken.example.com")
    assert (answer.status, answer.code) == (400, "DomainAlreadyExist")
    assert "taken.example.com is already added" in answer.body["Message"]
    assert add(api, "mine.alpha.example").status == 200
    assert add(api, "mine.alpha.example").code == "DomainAlreadyExist"


def test_modify_replaces_the_origins_and_keeps_the_ones_that_stay(api, alpha):
    domain = factories.make_domain(
        account=alpha, origins=[("domain", "a.origin.example", 443), ("ipaddr", "198.51.100.1", 443)]
    )
    Origin.objects.filter(address="a.origin.example").update(sni_host="tls.example.org")
    kept = Origin.objects.get(address="a.origin.example").pk
    raw = sources(("domain", "a.origin.example", 443), ("ipaddr", "198.51.100.2", 443))
    assert api.call("ModifyCdnDomain", {"DomainName": domain.name, "Sources": raw}).status == 200
    assert sorted(domain.origins.values_list("pk", "address", "sni_host")) == sorted(
        [
            (kept, "a.origin.example", "tls.example.org"),
            (Origin.objects.get(address="198.51.100.2").pk, "198.51.100.2", ""),
        ]
    )
    entry = OperationLog.objects.get(domain=domain, action="origins.replace")
    assert [o["address"] for o in entry.before["origins"]] == ["198.51.100.1", "a.origin.example"]

    answer = api.call(
        "ModifyCdnDomain", {"DomainName": domain.name, "Sources": sources(("ipaddr", "a.b", 80))}
    )
    assert (answer.status, answer.code) == (400, "InvalidSources.Malformed")
    assert "is not an IP address" in answer.body["Message"]
    assert domain.origins.count() == 2


def test_stop_and_start_follow_the_vendor_states(api, cdn_domain):
    assert api.call("StopCdnDomain", {"DomainName": cdn_domain.name}).status == 200
    cdn_domain.refresh_from_db()
    assert cdn_domain.status == DomainStatus.OFFLINE
    answer = api.call("StopCdnDomain", {"DomainName": cdn_domain.name})
    assert (answer.status, answer.code) == (403, "IllegalOperation")
    assert "already stopped (offline)" in answer.body["Message"]

    assert api.call("StartCdnDomain", {"DomainName": cdn_domain.name}).status == 200
    cdn_domain.refresh_from_db()
    assert cdn_domain.status == DomainStatus.ONLINE  # no edge node to wait for
    answer = api.call("StartCdnDomain", {"DomainName": cdn_domain.name})
    assert (answer.status, answer.code) == (403, "IllegalOperation")
    assert "only a stopped (offline) domain can be started" in answer.body["Message"]


def test_batch_stop_and_start_are_all_or_nothing(api, alpha):
    domains = [factories.make_domain(account=alpha) for _ in range(3)]
    names = ",".join(d.name for d in domains)
    answer = api.call("BatchStopCdnDomain", {"DomainNames": names + ",missing.alpha.example"})
    assert (answer.status, answer.code) == (404, "InvalidDomain.NotFound")
    assert set(Domain.objects.filter(pk__in=[d.pk for d in domains]).values_list("status", flat=True)) == {
        "online"
    }
    assert api.call("BatchStopCdnDomain", {"DomainNames": names}).status == 200
    assert set(Domain.objects.filter(pk__in=[d.pk for d in domains]).values_list("status", flat=True)) == {
        "offline"
    }
    assert api.call("BatchStopCdnDomain", {"DomainNames": names}).status == 200  # already so: left as it is
    assert api.call("BatchStartCdnDomain", {"DomainNames": names}).status == 200
    assert set(Domain.objects.filter(pk__in=[d.pk for d in domains]).values_list("status", flat=True)) == {
        "online"
    }
    answer = api.call(
        "BatchStartCdnDomain", {"DomainNames": ",".join(f"d{i}.example.com" for i in range(51))}
    )
    assert answer.code == "TooManyDomains"


def test_delete_hides_the_domain_at_once(api, cdn_domain):
    assert api.call("DeleteCdnDomain", {"DomainName": cdn_domain.name}).status == 200
    answer = api.call("DescribeCdnDomainDetail", {"DomainName": cdn_domain.name})
    assert (answer.status, answer.code) == (404, "InvalidDomain.NotFound")
    assert api.call("DeleteCdnDomain", {"DomainName": cdn_domain.name}).code == "InvalidDomain.NotFound"


def test_certificate_info_says_whether_https_is_on(api, cdn_domain):
    [info] = api.call("DescribeDomainCertificateInfo", {"DomainName": cdn_domain.name}).body["CertInfos"][
        "CertInfo"
    ]
    assert (info["DomainName"], info["ServerCertificateStatus"]) == (cdn_domain.name, "off")


def test_the_certificate_can_only_stay_as_it_is(api, cdn_domain):
    params = {"DomainName": cdn_domain.name, "SSLProtocol": "off"}
    assert api.call("SetCdnDomainSSLCertificate", params).status == 200
    for extra in ({"SSLProtocol": "on"}, {"SSLPub": "-----BEGIN CERTIFICATE-----"}):
        answer = api.call("SetCdnDomainSSLCertificate", params | extra)
        assert (answer.status, answer.code) == (400, "InvalidParameter")
        assert "does not manage the HTTPS certificates" in answer.body["Message"]
    assert (
        api.call("SetCdnDomainSSLCertificate", params | {"SSLProtocol": "maybe"}).code == "InvalidParameter"
    )


# Strangers and viewers, for every action that names a domain.

DOMAIN_ACTIONS = [
    ("ModifyCdnDomain", {"Sources": ONE_SOURCE}),
    ("StopCdnDomain", {}),
    ("StartCdnDomain", {}),
    ("DeleteCdnDomain", {}),
    ("DescribeCdnDomainDetail", {}),
    ("DescribeDomainCertificateInfo", {}),
    ("SetCdnDomainSSLCertificate", {"SSLProtocol": "off"}),
    ("DescribeCdnDomainConfigs", {}),
    ("DeleteSpecificConfig", {"ConfigId": "1"}),
]
BATCH_ACTIONS = [
    ("BatchStartCdnDomain", {}),
    ("BatchStopCdnDomain", {}),
    (
        "BatchSetCdnDomainConfig",
        {
            "Functions": json.dumps(
                [
                    {
                        "functionName": "https_origin_sni",
                        "functionArgs": [{"argName": "enabled", "argValue": "off"}],
                    }
                ]
            )
        },
    ),
    ("BatchDeleteCdnDomainConfig", {"FunctionNames": "https_origin_sni"}),
]
RESOURCE_ACTIONS = [
    ("TagResources", {"Tag.1.Key": "k", "Tag.1.Value": "v"}),
    ("UntagResources", {"All": "true"}),
    ("DescribeTagResources", {}),
    ("ListTagResources", {}),
]
WRITES = {
    "AddCdnDomain",
    "ModifyCdnDomain",
    "StopCdnDomain",
    "StartCdnDomain",
    "DeleteCdnDomain",
    "DeleteSpecificConfig",
    "SetCdnDomainSSLCertificate",
    "BatchStartCdnDomain",
    "BatchStopCdnDomain",
    "BatchSetCdnDomainConfig",
    "BatchDeleteCdnDomainConfig",
    "TagResources",
    "UntagResources",
}


def calls_on(name: str) -> list[tuple[str, dict[str, str]]]:
    return (
        [(action, {"DomainName": name, **extra}) for action, extra in DOMAIN_ACTIONS]
        + [(action, {"DomainNames": name, **extra}) for action, extra in BATCH_ACTIONS]
        + [
            (action, {"ResourceType": "DOMAIN", "ResourceId.1": name, **extra})
            for action, extra in RESOURCE_ACTIONS
        ]
    )


def test_another_accounts_domain_is_not_found_for_every_action(api, charlie):
    other = factories.make_domain(account=charlie.membership.account, name="secret.other.example")
    DomainTag.objects.create(domain=other, key="k", value="v")
    for action, params in calls_on(other.name):
        answer = api.call(action, params)
        assert (action, answer.status, answer.code) == (action, 404, "InvalidDomain.NotFound")
        assert "secret.other.example does not exist in your account" in answer.body["Message"]
    other.refresh_from_db()
    assert (other.status, other.deleted_at, other.origins.count()) == ("online", None, 1)
    assert list(other.tags.values_list("key", "value")) == [("k", "v")]
    assert not OperationLog.objects.exclude(action="access_key.create").exists()


def test_a_viewers_key_is_refused_on_every_write(viewer_api, cdn_domain):
    writes = [(action, params) for action, params in calls_on(cdn_domain.name) if action in WRITES]
    writes.append(
        ("AddCdnDomain", {"DomainName": "viewer.alpha.example", "CdnType": "web", "Sources": ONE_SOURCE})
    )
    assert {action for action, _ in writes} == WRITES
    for action, params in writes:
        answer = viewer_api.call(action, params)
        assert (action, answer.status, answer.code) == (action, 403, "Forbidden.RAM")
        assert f"{action} changes configuration" in answer.body["Message"]
    for action, params in calls_on(cdn_domain.name):
        if action not in WRITES:
            assert viewer_api.call(action, params).status == 200
    cdn_domain.refresh_from_db()
    assert (cdn_domain.status, cdn_domain.deleted_at) == ("online", None)
    assert not Domain.objects.filter(name="viewer.alpha.example").exists()
    assert not OperationLog.objects.exclude(action="access_key.create").exists()


def dcdn_name(cdn_name: str) -> str | None:
    """The DCDN twin of a CDN action (the same handler under the DCDN version), None when there is none."""
    handler = ACTIONS[(CDN, cdn_name)]
    return next(
        (name for (version, name), action in ACTIONS.items() if version == DCDN and action is handler), None
    )


def test_the_dcdn_twins_refuse_strangers_and_viewers_alike(api, viewer_api, charlie, dcdn_domain):
    other = factories.make_domain(
        account=charlie.membership.account, name="dyn.other.example", product="dcdn"
    )
    api.version = viewer_api.version = DCDN
    twins = [(dcdn_name(action), params) for action, params in calls_on(other.name) if dcdn_name(action)]
    assert len(twins) == 14
    for action, params in twins:
        answer = api.call(action, params)
        assert (action, answer.status, answer.code) == (action, 404, "InvalidDomain.NotFound")
    writes = [(dcdn_name(a), p) for a, p in calls_on(dcdn_domain.name) if a in WRITES and dcdn_name(a)]
    writes.append(("AddDcdnDomain", {"DomainName": "viewer.alpha.example", "Sources": ONE_SOURCE}))
    for action, params in writes:
        answer = viewer_api.call(action, params)
        assert (action, answer.status, answer.code) == (action, 403, "Forbidden.RAM")
    assert not OperationLog.objects.exclude(action="access_key.create").exists()
