"""Taking another tenant's traffic: acme adds `*.example.com` while demo holds example.com, with
www.example.com and oss.example.com. Refused on the page, the REST API and the Alibaba-compatible API (through
the official SDK too), with a message naming the rule and never the other account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_cdn20180510.client import Client as CdnClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from accounts.models import Role
from domains.models import Domain, VerifiedRoot
from domains.ownership import verification_token
from domains.root_services import domain_root_mark_verified, domain_root_release
from tests import factories
from tests.alibaba_api.conftest import SignedClient, make_key
from tests.api.helpers import codes
from tests.dnsmasq import DnsServer

ORIGINS = '[{"content":"198.51.100.7","type":"ipaddr","priority":"20","port":443,"weight":"10"}]'
SECRETS = ("demo", "Demo", "www.example.com", "oss.example.com")


@pytest.fixture
def demo(db):
    account = factories.make_account("demo")
    for name in ("www.example.com", "oss.example.com"):
        factories.make_domain(account=account, name=name)
    assert VerifiedRoot.objects.get(root="example.com").account == account
    return account


@pytest.fixture
def acme(db):
    account = factories.make_account("acme")
    factories.hold_root(account, "acme.example")
    return factories.make_user("acme", account=account, role=Role.OWNER)


def form(name: str) -> dict[str, object]:
    return {
        "name": name,
        "business_type": "web",
        "coverage": "domestic",
        "origin_count": 1,
        "origin-0-type": "ipaddr",
        "origin-0-address": "198.51.100.7",
        "origin-0-port": 443,
        "origin-0-priority": 20,
        "origin-0-weight": 10,
    }


def assert_says_nothing_of_demo(message: str) -> None:
    for secret in SECRETS:
        assert secret not in message, message


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["*.example.com", "shop.example.com", "*.cdn.example.com"])
def test_the_page_refuses_a_name_under_another_accounts_root(client, demo, acme, name):
    client.force_login(acme)
    response = client.post(reverse("domains:add", kwargs={"product": "cdn"}), form(name))
    body = response.content.decode()
    assert response.status_code == 200
    assert "The root domain example.com is verified by another account" in body
    assert "Verify domain ownership" not in body  # nothing acme could do would help
    error = re.search(r'id="id_name_error" role="alert">(.*?)</p>', body, re.S)
    assert error is not None
    assert_says_nothing_of_demo(error.group(1))
    assert not Domain.objects.filter(name=name).exists()


@pytest.mark.django_db
def test_the_rest_api_refuses_it(demo, acme):
    api = APIClient()
    api.force_authenticate(acme)
    origin = {"type": "ipaddr", "address": "198.51.100.7", "port": 443}
    response = api.post(
        "/api/v1/domains/",
        {"name": "*.example.com", "product": "cdn", "business_type": "web", "origins": [origin]},
        format="json",
    )
    assert response.status_code == 400 and codes(response) == {"name": ["owner_conflict"]}
    assert_says_nothing_of_demo(response.content.decode())
    verify = api.post("/api/v1/domain-ownership/", {"name": "example.com", "method": "dns"}, format="json")
    assert verify.status_code == 400 and codes(verify) == {"name": ["owner_conflict"]}


@pytest.mark.django_db
def test_the_alibaba_api_refuses_it_with_domain_owner_verify_fail(client, demo, acme):
    api = SignedClient(client, make_key(acme))
    answer = api.call("AddCdnDomain", {"DomainName": "*.example.com", "CdnType": "web", "Sources": ORIGINS})
    assert (answer.status, answer.code) == (400, "DomainOwnerVerifyFail")
    assert "verified by another account" in answer.body["Message"]
    assert_says_nothing_of_demo(answer.body["Message"])
    taken = api.call("AddCdnDomain", {"DomainName": "www.example.com", "CdnType": "web", "Sources": ORIGINS})
    assert taken.code == "DomainAlreadyExist"
    assert not Domain.objects.filter(name="*.example.com").exists()


@pytest.mark.django_db
def test_a_wildcard_over_another_accounts_names_is_refused_even_by_the_roots_holder(client, demo, acme):
    # The root changed hands (an operator's decision) while demo's domains stay.
    context = ChangeContext.system()
    domain_root_release(verified=VerifiedRoot.objects.get(root="example.com"), context=context)
    domain_root_mark_verified(account=acme.membership.account, name="example.com", context=context)
    factories.make_domain(account=demo, name="*.img.example.com")
    api = APIClient()
    api.force_authenticate(acme)
    origin = {"type": "ipaddr", "address": "198.51.100.7", "port": 443}

    def add(name: str):  # type: ignore[no-untyped-def]
        body = {"name": name, "product": "cdn", "business_type": "web", "origins": [origin]}
        return api.post("/api/v1/domains/", body, format="json")

    assert codes(add("*.example.com")) == {"name": ["wildcard_conflict"]}
    assert codes(add("a.img.example.com")) == {"name": ["wildcard_conflict"]}  # under demo's wildcard
    assert add("shop.example.com").status_code == 201  # a name of acme's own root, covering nobody


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.remove()


@pytest.mark.django_db(transaction=True)
def test_the_official_sdk_describes_the_content_verifies_and_is_refused_the_takeover(
    live_server, demo, acme, dns
):
    key = make_key(acme)
    client = CdnClient(
        Config(
            access_key_id=key.access_key_id,
            access_key_secret=key.secret,
            endpoint=f"127.0.0.1:{urlparse(live_server.url).port}",
            protocol="http",
        )
    )
    token = verification_token(acme.membership.account)
    content = client.describe_verify_content(
        cdn_models.DescribeVerifyContentRequest(domain_name="www.acme.test")
    )
    assert content.body.content == token

    dns.set_txt({"verification.acme.test": [token]})
    with override_settings(VERIFY_DNS_RESOLVER=[dns.address]):
        verified = client.verify_domain_owner(
            cdn_models.VerifyDomainOwnerRequest(domain_name="www.acme.test", verify_type="dnsCheck")
        )
        assert verified.body.content == token
        client.add_cdn_domain(
            cdn_models.AddCdnDomainRequest(domain_name="www.acme.test", cdn_type="web", sources=ORIGINS)
        )
        with pytest.raises(ClientException) as refused:
            client.add_cdn_domain(
                cdn_models.AddCdnDomainRequest(domain_name="*.example.com", cdn_type="web", sources=ORIGINS)
            )
    assert refused.value.code == "DomainOwnerVerifyFail"
    assert Domain.objects.get(name="www.acme.test").account == acme.membership.account
    assert not Domain.objects.filter(name="*.example.com").exists()
