"""Tags through the API as Terraform sets and reads them, DescribeUserDomains by tag, the vendor's rules."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_cdn20180510.client import Client as CdnClient
from alibabacloud_tea_openapi.utils_models import Config

from accounts.models import OperationLog, Source
from domains.models import DomainTag
from tests import factories
from tests.alibaba_api.conftest import DCDN, SignedClient


def tag(api: SignedClient, names: list[str], tags: dict[str, str], action: str = "TagResources"):  # type: ignore[no-untyped-def]
    params = {"ResourceType": "DOMAIN"} | {f"ResourceId.{i}": n for i, n in enumerate(names, start=1)}
    for index, (key, value) in enumerate(tags.items(), start=1):
        params |= {f"Tag.{index}.Key": key, f"Tag.{index}.Value": value}
    return api.call(action, params)


def tags_of(domain) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(DomainTag.objects.filter(domain=domain).values_list("key", "value"))


def test_tag_resources_tags_every_domain_and_a_key_again_changes_its_value(api, alpha, alice):
    first, second = factories.make_domain(account=alpha), factories.make_domain(account=alpha)
    assert tag(api, [first.name, second.name], {"env": "prod", "team": "edge"}).status == 200
    assert tag(api, [first.name], {"env": "test"}).status == 200
    assert tags_of(first) == {"env": "test", "team": "edge"}
    assert tags_of(second) == {"env": "prod", "team": "edge"}
    entry = OperationLog.objects.filter(domain=first, action="domain_tags.update").latest("id")
    assert (entry.source, entry.actor) == (Source.OPENAPI, alice)
    assert (entry.before, entry.after) == (
        {"tags": {"env": "prod", "team": "edge"}},
        {"tags": {"env": "test", "team": "edge"}},
    )


def test_describe_and_list_tag_resources_read_them_back(api, alpha):
    domain = factories.make_domain(account=alpha)
    plain = factories.make_domain(account=alpha)
    tag(api, [domain.name], {"env": "prod", "team": "edge"})
    params = {"ResourceType": "DOMAIN", "ResourceId.1": domain.name, "ResourceId.2": plain.name}
    described = api.call("DescribeTagResources", params).body["TagResources"]
    assert described == [
        {
            "ResourceId": domain.name,
            "Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "edge"}],
        },
        {"ResourceId": plain.name, "Tag": []},
    ]
    listed = api.call("ListTagResources", params).body["TagResources"]["TagResource"]
    assert [(t["ResourceId"], t["ResourceType"], t["TagKey"], t["TagValue"]) for t in listed] == [
        (domain.name, "DOMAIN", "env", "prod"),
        (domain.name, "DOMAIN", "team", "edge"),
    ]
    only = api.call("DescribeTagResources", params | {"Tag.1.Key": "env", "Tag.1.Value": "prod"})
    assert [r["ResourceId"] for r in only.body["TagResources"]] == [domain.name]


def test_untag_removes_the_keys_given_or_all(api, alpha):
    domain = factories.make_domain(account=alpha)
    tag(api, [domain.name], {"a": "1", "b": "2", "c": "3"})
    base = {"ResourceType": "DOMAIN", "ResourceId.1": domain.name}
    assert api.call("UntagResources", base | {"TagKey.1": "a", "TagKey.2": "nope"}).status == 200
    assert tags_of(domain) == {"b": "2", "c": "3"}
    assert api.call("UntagResources", base | {"All": "true"}).status == 200
    assert tags_of(domain) == {}
    answer = api.call("UntagResources", base)
    assert (answer.status, answer.code) == (400, "MissingParameter")
    assert "TagKey.1" in answer.body["Message"]


def test_describe_user_domains_filters_by_tag(api, alpha):
    prod, test, bare = (factories.make_domain(account=alpha) for _ in range(3))
    tag(api, [prod.name], {"env": "prod", "team": "edge"})
    tag(api, [test.name], {"env": "test"})

    def names(**params: str) -> list[str]:
        body = api.call("DescribeUserDomains", params).body
        return [item["DomainName"] for item in body["Domains"]["PageData"]]

    assert names(**{"Tag.1.Key": "env"}) == sorted([prod.name, test.name])
    assert names(**{"Tag.1.Key": "env", "Tag.1.Value": "prod"}) == [prod.name]
    assert names(**{"Tag.1.Key": "env", "Tag.2.Key": "team", "Tag.2.Value": "edge"}) == [prod.name]
    assert names(**{"Tag.1.Key": "env", "Tag.1.Value": "staging"}) == []
    assert bare.name in names()


@pytest.mark.parametrize(
    ("tags", "code", "rule"),
    [
        ({"acs:owner": "x"}, "InvalidTagKey", "starts with aliyun or acs:"),
        ({"AliyunThing": "x"}, "InvalidTagKey", "starts with aliyun or acs:"),
        ({"k" * 65: "x"}, "InvalidTagKey", "a tag key has at most 64"),
        ({"see http://x": "x"}, "InvalidTagKey", "http://, https://"),
        ({"k": "v" * 129}, "InvalidTagValue", "a tag value has at most 128"),
        ({"k": "https://x"}, "InvalidTagValue", "http://, https://"),
    ],
)
def test_tag_rules_are_the_vendors(api, cdn_domain, tags, code, rule):
    answer = tag(api, [cdn_domain.name], tags)
    assert (answer.status, answer.code) == (400, code)
    assert rule in answer.body["Message"]
    assert tags_of(cdn_domain) == {}


def test_a_domain_has_at_most_twenty_tags_and_a_batch_is_all_or_nothing(api, alpha):
    full, empty = factories.make_domain(account=alpha), factories.make_domain(account=alpha)
    tag(api, [full.name], {f"k{i}": "v" for i in range(19)})
    answer = tag(api, [empty.name, full.name], {"x": "1", "y": "2"})
    assert (answer.status, answer.code) == (400, "TooManyTags")
    assert f"A domain has at most 20 tags; {full.name} would have 21." in answer.body["Message"]
    assert tags_of(empty) == {}


def test_other_refusals_name_the_parameter(api, cdn_domain):
    params = {"ResourceId.1": cdn_domain.name, "Tag.1.Key": "k", "Tag.2.Key": "k"}
    answer = api.call("TagResources", params | {"ResourceType": "INSTANCE"})
    assert (answer.code, "use DOMAIN" in answer.body["Message"]) == ("InvalidResourceType", True)
    answer = api.call("TagResources", {"ResourceType": "DOMAIN", "Tag.1.Key": "k"})
    assert (answer.code, "ResourceId.1" in answer.body["Message"]) == ("MissingParameter", True)
    answer = api.call("TagResources", params | {"ResourceType": "DOMAIN"})
    assert (answer.code, "The tag key k is given more than once." in answer.body["Message"]) == (
        "TagKeyRepeated",
        True,
    )
    answer = api.call("TagResources", {"ResourceType": "DOMAIN", "ResourceId.1": cdn_domain.name})
    assert (answer.code, "Tag.1.Key" in answer.body["Message"]) == ("MissingParameter", True)


def test_dcdn_tags_have_the_dcdn_names(api, dcdn_domain, cdn_domain):
    api.version = DCDN
    assert tag(api, [dcdn_domain.name], {"env": "prod"}, "TagDcdnResources").status == 200
    found = api.call("DescribeDcdnTagResources", {"ResourceType": "DOMAIN", "ResourceId.1": dcdn_domain.name})
    assert found.body["TagResources"][0]["Tag"] == [{"Key": "env", "Value": "prod"}]
    assert tag(api, [cdn_domain.name], {"env": "prod"}, "TagDcdnResources").code == "InvalidDomain.NotFound"
    params = {"ResourceType": "DOMAIN", "ResourceId.1": dcdn_domain.name, "All": "true"}
    assert api.call("UntagDcdnResources", params).status == 200
    assert tags_of(dcdn_domain) == {}


@pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")
@pytest.mark.django_db(transaction=True)
def test_the_official_sdk_tags_and_lists_by_tag(live_server, alpha, alice_key):
    domain = factories.make_domain(account=alpha, name="sdk-tags.alpha.example")
    factories.make_domain(account=alpha, name="untagged.alpha.example")
    client = CdnClient(
        Config(
            access_key_id=alice_key.access_key_id,
            access_key_secret=alice_key.secret,
            endpoint=f"127.0.0.1:{urlparse(live_server.url).port}",
            protocol="http",
        )
    )
    client.tag_resources(
        cdn_models.TagResourcesRequest(
            resource_id=[domain.name],
            resource_type="DOMAIN",
            tag=[cdn_models.TagResourcesRequestTag(key="env", value="prod")],
        )
    )
    listed = client.describe_user_domains(
        cdn_models.DescribeUserDomainsRequest(
            tag=[cdn_models.DescribeUserDomainsRequestTag(key="env", value="prod")]
        )
    ).body
    assert [item.domain_name for item in listed.domains.page_data] == [domain.name]
    described = client.describe_tag_resources(
        cdn_models.DescribeTagResourcesRequest(resource_id=[domain.name], resource_type="DOMAIN")
    ).body
    assert [(t.key, t.value) for t in described.tag_resources[0].tag] == [("env", "prod")]
