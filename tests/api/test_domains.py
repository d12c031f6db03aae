"""Domains through the REST API: the list and its filters, adding, disabling, enabling and deleting."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OperationLog
from domains.models import Domain, DomainStatus, OriginType
from tests import factories
from tests.api.helpers import codes

LIST = "/api/v1/domains/"
ORIGIN = {"type": "ipaddr", "address": "203.0.113.30", "port": 443}


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [domain["name"] for domain in response.json()["results"]]


@pytest.fixture
def several(alpha) -> list[Domain]:
    domains = [
        factories.make_domain(account=alpha, name=name)
        for name in ("img.shop.example", "shop.example.net", "www.shop.example", "static.blog.example")
    ]
    factories.make_domain(account=alpha, name="api.shop.example", product="dcdn")
    Domain.objects.filter(name="static.blog.example").update(status=DomainStatus.OFFLINE)
    return domains


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "shop"}, ["img.shop.example", "shop.example.net", "www.shop.example"]),
        ({"q": "SHOP", "match": "fuzzy"}, ["img.shop.example", "shop.example.net", "www.shop.example"]),
        ({"q": "shop", "match": "prefix"}, ["shop.example.net"]),
        (
            {"q": ".example", "match": "suffix"},
            ["img.shop.example", "static.blog.example", "www.shop.example"],
        ),
        ({"q": "www.shop.example", "match": "exact"}, ["www.shop.example"]),
        ({"q": "www.shop", "match": "exact"}, []),
        ({"status": "offline"}, ["static.blog.example"]),
        ({"product": "dcdn"}, ["api.shop.example"]),
        (
            {"product": "cdn", "q": "shop", "ordering": "-name"},
            ["www.shop.example", "shop.example.net", "img.shop.example"],
        ),
    ],
)
def test_the_list_filters_like_the_console(owner, several, query, expected) -> None:
    query = {"product": "cdn", **query} if "product" not in query else query
    response = owner.get(LIST, query)
    assert response.status_code == 200
    assert names(response) == expected


def test_the_list_orders_by_creation_time(owner, several) -> None:
    response = owner.get(LIST, {"ordering": "-created_at"})
    assert names(response)[0] == "api.shop.example"
    assert names(owner.get(LIST, {"ordering": "created_at"}))[0] == "img.shop.example"


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"status": "sleeping"}, "status", "invalid_choice"),
        ({"match": "regex"}, "match", "invalid_choice"),
        ({"ordering": "cname"}, "ordering", "invalid_choice"),
        ({"page_size": "30"}, "page_size", "invalid_choice"),
    ],
)
def test_an_invalid_filter_is_400_naming_it(owner, several, query, field, code) -> None:
    response = owner.get(LIST, query)
    assert response.status_code == 400
    assert codes(response) == {field: [code]}


@pytest.mark.parametrize("size", [20, 50, 100])
def test_pages_have_the_console_page_sizes(owner, alpha, size) -> None:
    for index in range(size + 1):
        factories.make_domain(account=alpha, name=f"d{index:03}.alpha.example")
    first = owner.get(LIST, {"page_size": size}).json()
    assert (first["count"], len(first["results"])) == (size + 1, size)
    second = owner.get(LIST, {"page_size": size, "page": 2}).json()
    assert len(second["results"]) == 1
    assert owner.get(LIST, {"page_size": size, "page": 3}).status_code == 404


def test_the_list_takes_as_many_queries_whatever_the_page_size(
    owner, alpha, django_assert_max_num_queries
) -> None:
    for index in range(100):
        factories.make_domain(
            account=alpha,
            name=f"d{index:03}.alpha.example",
            origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "o.alpha.example", 443)],
        )
    counts = {}
    for size in (20, 50, 100):
        with CaptureQueriesContext(connection) as queries:
            response = owner.get(LIST, {"page_size": size})
        assert len(response.json()["results"]) == size
        assert len(response.json()["results"][0]["origins"]) == 2
        counts[size] = len(queries)
    assert counts[20] == counts[50] == counts[100]
    with django_assert_max_num_queries(5):
        owner.get(LIST, {"page_size": 100})


def test_a_domain_is_found_by_its_name_in_any_case(owner, cdn_domain) -> None:
    response = owner.get("/api/v1/domains/WWW.Alpha.Example/")
    assert response.status_code == 200
    assert response.json()["name"] == "www.alpha.example"
    assert response.json()["origins"][0]["address"] == "203.0.113.10"


def test_adding_a_domain_with_its_origins(owner, alice) -> None:
    body = {
        "name": "New.Alpha.Example",
        "product": "cdn",
        "business_type": "download",
        "coverage": "global",
        "description": "downloads",
        "origins": [
            ORIGIN,
            {"type": "domain", "address": "backup.alpha.example", "priority": 30, "weight": 5},
        ],
    }
    response = owner.post(LIST, body, format="json")

    assert response.status_code == 201, response.content
    assert response["Location"] == "/api/v1/domains/new.alpha.example/"
    data = response.json()
    assert (data["name"], data["business_type"], data["coverage"]) == (
        "new.alpha.example",
        "download",
        "global",
    )
    assert data["cname"] == "new.alpha.example.w.cdnconsole.net"
    assert [(o["address"], o["port"], o["priority"], o["weight"]) for o in data["origins"]] == [
        ("203.0.113.30", 443, 20, 10),
        ("backup.alpha.example", 80, 30, 5),
    ]
    entry = OperationLog.objects.get(action="domain.create")
    assert (entry.source, entry.actor, entry.domain_name) == ("rest", alice, "new.alpha.example")


def test_a_wildcard_domain_can_be_added_and_read_by_name(owner) -> None:
    body = {"name": "*.alpha.example", "product": "cdn", "business_type": "web", "origins": [ORIGIN]}
    assert owner.post(LIST, body, format="json").status_code == 201
    assert (
        owner.get("/api/v1/domains/*.alpha.example/").json()["cname"] == "all.alpha.example.w.cdnconsole.net"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "https://new.alpha.example"}, {"name": ["scheme"]}),
        ({"name": "a.*.alpha.example"}, {"name": ["wildcard"]}),
        ({"name": "www.alpha.example"}, {"name": ["taken"]}),
        ({"product": "dcdn"}, {"business_type": ["invalid"]}),
        ({"product": "vod"}, {"product": ["invalid_choice"]}),
        ({"description": "x" * 257}, {"description": ["too_long"]}),
        ({"origins": []}, {"origins": ["required"]}),
        ({"origins": [ORIGIN] * 21}, {"origins": ["too_many"]}),
        ({"origins": [ORIGIN, ORIGIN]}, {"origins.1.address": ["duplicate"]}),
        (
            {"origins": [{"type": "ipaddr", "address": "origin.example"}]},
            {"origins.0.address": ["invalid_ip"]},
        ),
        (
            {"origins": [ORIGIN, {"type": "domain", "address": "*.x.example"}]},
            {"origins.1.address": ["wildcard"]},
        ),
        (
            {"origins": [{**ORIGIN, "port": 70000, "weight": 0}]},
            {"origins.0.port": ["port_range"], "origins.0.weight": ["weight_range"]},
        ),
        ({"origins": [{**ORIGIN, "priority": 25}]}, {"origins.0.priority": ["invalid_choice"]}),
        ({"origins": [{"address": "203.0.113.1"}]}, {"origins.0.type": ["required"]}),
    ],
)
def test_adding_an_invalid_domain_names_the_field_and_the_rule(owner, cdn_domain, change, expected) -> None:
    body = {
        "name": "new.alpha.example",
        "product": "cdn",
        "business_type": "web",
        "origins": [ORIGIN],
        **change,
    }
    response = owner.post(LIST, body, format="json")
    assert response.status_code == 400
    assert codes(response) == expected
    assert not Domain.objects.filter(name="new.alpha.example").exists()


def test_a_body_that_is_not_json_is_400(owner) -> None:
    response = owner.generic("POST", LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert codes(response) == {"non_field_errors": ["parse_error"]}


def test_disabling_and_enabling_a_domain(owner, cdn_domain) -> None:
    response = owner.post(f"/api/v1/domains/{cdn_domain.name}/disable/")
    assert (response.status_code, response.json()["status"]) == (200, "offline")
    response = owner.post(f"/api/v1/domains/{cdn_domain.name}/enable/")
    assert response.status_code == 200
    assert response.json()["status"] in ("online", "configuring")
    assert list(OperationLog.objects.values_list("action", flat=True)) == ["domain.enable", "domain.disable"]


def test_deleting_a_domain_hides_it_at_once(owner, cdn_domain) -> None:
    assert owner.delete(f"/api/v1/domains/{cdn_domain.name}/").status_code == 204
    assert owner.get(f"/api/v1/domains/{cdn_domain.name}/").status_code == 404
    assert cdn_domain.name not in names(owner.get(LIST))
    assert OperationLog.objects.get().action == "domain.delete"
