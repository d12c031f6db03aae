"""Origins cannot point inside: every kind of refused address is refused on every path that writes an origin
(the Add Domain Name page, the origin dialog, the REST API, the Alibaba-compatible API; the admin has no way
to write one), with a message
naming the kind; the operator's allow-list lets networks through; an edge node's own address is refused."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from domains.models import Domain, Origin
from tests import factories
from tests.alibaba_api.conftest import SignedClient, make_key
from tests.api.helpers import codes

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NO_ALLOW_LIST = override_settings(ORIGIN_ALLOWED_NETWORKS=[])

REFUSED = [
    ("127.0.0.1", "loopback", "loopback address"),
    ("0.0.0.0", "unspecified", "unspecified address"),  # noqa: S104 - an origin under test
    ("::1", "loopback", "loopback address"),
    ("::", "unspecified", "unspecified address"),
    ("169.254.169.254", "link_local", "link-local address"),
    ("fe80::1", "link_local", "link-local address"),
    ("10.0.0.1", "private", "private network"),
    ("172.31.255.1", "private", "private network"),
    ("192.168.0.10", "private", "private network"),
    ("fd12:3456::1", "private", "private network"),
    ("100.64.0.1", "shared", "shared address space"),
    ("224.0.0.251", "multicast", "multicast address"),
    ("ff02::1", "multicast", "multicast address"),
    ("240.0.0.1", "reserved", "reserved range"),
    ("203.0.113.10", "reserved", "reserved range"),
    ("2001:db8::1", "reserved", "reserved range"),
    ("::127.0.0.1", "reserved", "reserved range"),
    ("64:ff9b::a9fe:a9fe", "reserved", "reserved range"),
    ("::ffff:169.254.169.254", "ipv4_mapped", "enter 169.254.169.254 as an IPv4 address"),
    ("fe80::1%eth0", "ip_zone", "Remove the zone"),
]


@pytest.fixture
def cdn_domain(alpha) -> Domain:
    """A domain whose origin is a public address (the suite's own are in documentation ranges)."""
    return factories.make_domain(
        account=alpha, name="www.alpha.example", origins=[("ipaddr", "1.1.1.1", 443)]
    )


def add_form(name: str, address: str) -> dict[str, object]:
    return {
        "name": name,
        "business_type": "web",
        "coverage": "domestic",
        "description": "",
        "origin_count": 1,
        "origin-0-type": "ipaddr",
        "origin-0-address": address,
        "origin-0-port": 443,
        "origin-0-priority": 20,
        "origin-0-weight": 10,
    }


def token_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@NO_ALLOW_LIST
@pytest.mark.parametrize(("address", "code", "words"), REFUSED)
def test_add_domain_name_refuses_the_address(client, alice, address, code, words) -> None:
    client.force_login(alice)
    response = client.post(
        reverse("domains:add", kwargs={"product": "cdn"}), add_form("new.alpha.example", address)
    )
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not Domain.objects.filter(name="new.alpha.example").exists()


@NO_ALLOW_LIST
@pytest.mark.parametrize(("address", "code", "words"), REFUSED)
def test_the_origin_dialog_refuses_the_address(client, alice, cdn_domain, address, code, words) -> None:
    client.force_login(alice)
    url = reverse("domains:origin_add", kwargs={"product": "cdn", "name": cdn_domain.name})
    data = {"type": "ipaddr", "address": address, "port": "443", "priority": "20", "weight": "10"}
    response = client.post(url, data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_address_error"' in body and words in body
    assert cdn_domain.origins.count() == 1


@NO_ALLOW_LIST
@pytest.mark.parametrize(("address", "code", "words"), REFUSED)
def test_the_rest_api_refuses_the_address(alice, cdn_domain, address, code, words) -> None:
    api = token_client(alice)
    origin = {"type": "ipaddr", "address": address, "port": 443}
    added = api.post(f"/api/v1/domains/{cdn_domain.name}/origins/", origin, format="json")
    assert added.status_code == 400 and codes(added) == {"address": [code]}
    body = {"name": "new.alpha.example", "product": "cdn", "business_type": "web", "origins": [origin]}
    created = api.post("/api/v1/domains/", body, format="json")
    assert created.status_code == 400 and codes(created) == {"origins.0.address": [code]}
    existing = cdn_domain.origins.get()
    changed = api.patch(f"/api/v1/domains/{cdn_domain.name}/origins/{existing.pk}/", origin, format="json")
    assert changed.status_code == 400 and codes(changed) == {"address": [code]}
    assert list(cdn_domain.origins.values_list("address", flat=True)) == ["1.1.1.1"]


def test_the_allow_list_lets_a_network_through(alice, alpha, cdn_domain) -> None:
    api = token_client(alice)
    # The suite's own setting: the loopback origins of its end-to-end tests.
    origin = {"type": "ipaddr", "address": "127.0.0.5", "port": 80}
    assert api.post(f"/api/v1/domains/{cdn_domain.name}/origins/", origin, format="json").status_code == 201
    lab = factories.make_domain(account=alpha, name="lab.alpha.example", origins=[("ipaddr", "1.1.1.1", 443)])
    url = f"/api/v1/domains/{lab.name}/origins/"
    with override_settings(ORIGIN_ALLOWED_NETWORKS=["10.8.0.0/16"]):
        assert (
            api.post(url, {"type": "ipaddr", "address": "10.8.1.1", "port": 80}, format="json").status_code
            == 201
        )
        refused = api.post(url, {"type": "ipaddr", "address": "10.9.1.1", "port": 80}, format="json")
        assert codes(refused) == {"address": ["private"]}


@NO_ALLOW_LIST
def test_an_enabled_edge_nodes_own_address_or_name_is_refused(alice, cdn_domain) -> None:
    factories.make_node("edge-public", "http://8.8.4.4:9100")
    factories.make_node("edge-named", "https://agent-7.edge.example.net:9100")
    api = token_client(alice)
    url = f"/api/v1/domains/{cdn_domain.name}/origins/"
    by_ip = api.post(url, {"type": "ipaddr", "address": "8.8.4.4", "port": 443}, format="json")
    assert by_ip.status_code == 400 and codes(by_ip) == {"address": ["own"]}
    assert "own edge nodes" in by_ip.json()["errors"]["address"][0]["message"]
    by_name = api.post(
        url, {"type": "domain", "address": "Agent-7.Edge.Example.NET", "port": 443}, format="json"
    )
    assert codes(by_name) == {"address": ["own"]}
    # Another address of the same kind is fine: the node's, not the range's.
    assert (
        api.post(url, {"type": "ipaddr", "address": "8.8.8.8", "port": 443}, format="json").status_code == 201
    )


def test_the_admin_offers_no_way_to_write_an_origin(admin_client, cdn_domain) -> None:
    origin = cdn_domain.origins.get()
    assert admin_client.get(reverse("admin:domains_origin_add")).status_code == 403
    change = reverse("admin:domains_origin_change", args=[origin.pk])
    response = admin_client.post(change, {"address": "127.0.0.1", "port": 443})
    assert response.status_code in (302, 403)
    assert Origin.objects.get(pk=origin.pk).address == "1.1.1.1"
    assert admin_client.get(reverse("admin:domains_domain_add")).status_code == 403


@NO_ALLOW_LIST
@pytest.mark.parametrize(("address", "code", "words"), REFUSED)
def test_the_alibaba_api_refuses_the_address(client, alice, address, code, words) -> None:
    api = SignedClient(client, make_key(alice))
    sources = json.dumps(
        [{"content": address, "type": "ipaddr", "port": 443, "priority": "20", "weight": "10"}]
    )
    answer = api.call(
        "AddCdnDomain", {"DomainName": "new.alpha.example", "CdnType": "web", "Sources": sources}
    )
    assert (answer.status, answer.code) == (400, "InvalidSources.Malformed")
    assert words in answer.body["Message"]
    assert not Domain.objects.filter(name="new.alpha.example").exists()
