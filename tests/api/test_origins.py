"""A domain's origins through the REST API, and per-origin SNI."""

from __future__ import annotations

import pytest

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import Domain, Origin, OriginType
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.api.helpers import codes, messages

URL = "/api/v1/domains/www.alpha.example/origins/"


@pytest.fixture
def domain(alpha) -> Domain:
    return factories.make_domain(
        account=alpha,
        name="www.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "origin.alpha.example", 443)],
    )


def origin_url(origin: Origin, suffix: str = "") -> str:
    return f"{URL}{origin.pk}/{suffix}"


def test_the_origins_show_the_sni_the_edge_sends_and_why(owner, alice, domain) -> None:
    origin_sni_update(domain=domain, enabled=True, name="sni.alpha.example", context=ChangeContext(alice))
    Origin.objects.filter(address="origin.alpha.example").update(sni_host="ali_follow_origin")
    response = owner.get(URL)
    assert response.status_code == 200
    assert [(o["address"], o["effective_sni"], o["effective_sni_source"]) for o in response.json()] == [
        ("203.0.113.10", "sni.alpha.example", "domain"),
        ("origin.alpha.example", "origin.alpha.example", "origin_address"),
    ]


def test_adding_an_origin(owner, domain) -> None:
    body = {"type": "domain", "address": "Backup.Alpha.Example", "port": 443, "priority": 30, "weight": 20}
    response = owner.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0} == {
        "id": 0,
        "type": "domain",
        "address": "backup.alpha.example",
        "port": 443,
        "priority": 30,
        "weight": 20,
        "enabled": True,
        "fetch": [{"scheme": "https", "port": 443}],
        "fetch_source": "policy_https",
        "sni_host": "",
        "effective_sni": None,
        "effective_sni_source": "none",
    }
    assert domain.origins.count() == 3


def test_the_origins_show_the_scheme_and_port_the_edge_fetches_with_and_why(owner, alice, domain) -> None:
    owner.post(URL, {"type": "ipaddr", "address": "203.0.113.12", "port": 8080}, format="json")
    fetched = [(o["port"], o["fetch"], o["fetch_source"]) for o in owner.get(URL).json()]
    assert fetched == [
        (443, [{"scheme": "https", "port": 443}], "policy_https"),
        (443, [{"scheme": "https", "port": 443}], "policy_https"),
        (8080, [{"scheme": "https", "port": 443}], "policy_https"),
    ]
    owner.patch("/api/v1/domains/www.alpha.example/origin-fetch/protocol/", {"enabled": False}, format="json")
    fetched = [(o["port"], o["fetch"], o["fetch_source"]) for o in owner.get(URL).json()]
    assert fetched == [
        (443, [{"scheme": "https", "port": 443}], "origin_port"),
        (443, [{"scheme": "https", "port": 443}], "origin_port"),
        (8080, [{"scheme": "http", "port": 8080}], "origin_port"),
    ]
    owner.put(
        "/api/v1/domains/www.alpha.example/origin-fetch/protocol/",
        {"forward_scheme": "follow", "http_port": 8000, "https_port": 443},
        format="json",
    )
    assert owner.get(URL).json()[2]["fetch"] == [
        {"scheme": "http", "port": 8000},
        {"scheme": "https", "port": 443},
    ]


def test_with_the_policy_off_the_last_origin_on_443_keeps_origin_sni_somewhere(owner, alice, alpha) -> None:
    factories.make_domain(
        account=alpha,
        name="www.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.IPADDR, "203.0.113.11", 80)],
        sni_enabled=True,
        sni_name="sni.alpha.example",
    )
    owner.patch("/api/v1/domains/www.alpha.example/origin-fetch/protocol/", {"enabled": False}, format="json")
    on_443 = Origin.objects.get(address="203.0.113.10")
    response = owner.patch(origin_url(on_443), {"port": 8443}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"port": ["breaks_origin_sni"]}
    assert "Keep at least one origin on port 443" in messages(response, "port")[0]
    response = owner.delete(origin_url(on_443))
    assert codes(response) == {"non_field_errors": ["breaks_origin_sni"]}
    assert Origin.objects.get(pk=on_443.pk).port == 443


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "ipaddr", "address": "origin.example"}, {"address": ["invalid_ip"]}),
        ({"type": "ipaddr", "address": "203.0.113.10", "port": 443}, {"address": ["duplicate"]}),
        ({"type": "domain", "address": "*.alpha.example"}, {"address": ["wildcard"]}),
        ({"type": "domain", "address": "b.alpha.example", "port": 0}, {"port": ["port_range"]}),
        ({"type": "domain", "address": "b.alpha.example", "weight": 101}, {"weight": ["weight_range"]}),
        ({"type": "ftp", "address": "b.alpha.example"}, {"type": ["invalid_choice"]}),
        ({"type": "domain", "address": "b.alpha.example", "port": "x"}, {"port": ["invalid"]}),
    ],
)
def test_an_invalid_origin_names_its_field_and_rule(owner, domain, body, expected) -> None:
    response = owner.post(URL, body, format="json")
    assert response.status_code == 400
    assert codes(response) == expected
    assert domain.origins.count() == 2


def test_an_origin_can_be_replaced_or_changed_in_part(owner, domain) -> None:
    origin = domain.origins.get(address="203.0.113.10")
    response = owner.put(origin_url(origin), {"type": "ipaddr", "address": "203.0.113.11"}, format="json")
    assert response.status_code == 200
    assert (response.json()["address"], response.json()["port"]) == ("203.0.113.11", 80)

    response = owner.patch(origin_url(origin), {"weight": 60}, format="json")
    assert (response.json()["address"], response.json()["weight"]) == ("203.0.113.11", 60)
    assert list(OperationLog.objects.values_list("action", "source")) == [
        ("origin.update", "rest"),
        ("origin.update", "rest"),
    ]


def test_removing_an_origin_but_never_the_last(owner, domain) -> None:
    first, second = domain.origins.order_by("id")
    assert owner.delete(origin_url(first)).status_code == 204
    response = owner.delete(origin_url(second))
    assert response.status_code == 400
    assert codes(response) == {"non_field_errors": ["last_origin"]}
    assert domain.origins.get() == second


def test_an_origin_of_another_domain_is_404(owner, alpha, domain) -> None:
    other = factories.make_domain(account=alpha, name="other.alpha.example").origins.get()
    assert owner.get(origin_url(other)).status_code == 404
    assert owner.get(URL + "abc/").status_code == 404
    assert owner.get(URL + "99999999999999999999/").status_code == 404


def test_setting_an_origins_own_sni(owner, alice, domain) -> None:
    origin = domain.origins.get(address="203.0.113.10")
    response = owner.put(origin_url(origin, "sni/"), {"sni_host": "Own.Alpha.Example"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "id": origin.pk,
        "sni_host": "own.alpha.example",
        "effective_sni": "own.alpha.example",
        "effective_sni_source": "origin",
    }
    entry = OperationLog.objects.get()
    assert (entry.action, entry.source, entry.actor) == ("origin_sni_host.update", "rest", alice)
    assert owner.get(origin_url(origin, "sni/")).json()["sni_host"] == "own.alpha.example"


@pytest.mark.parametrize(
    ("address", "sni_host", "code"),
    [
        ("203.0.113.10", "*.alpha.example", "wildcard"),
        ("203.0.113.10", "ali_follow_origin", "follow_origin_ip"),
        ("203.0.113.10", "198.51.100.1", "ip_literal"),
    ],
)
def test_an_invalid_origin_sni_names_the_rule(owner, domain, address, sni_host, code) -> None:
    origin = domain.origins.get(address=address)
    response = owner.put(origin_url(origin, "sni/"), {"sni_host": sni_host}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"sni_host": [code]}
    if code == "wildcard":
        assert messages(response, "sni_host")[0].startswith("Wildcard domain names are not supported")
    origin.refresh_from_db()
    assert origin.sni_host == ""
