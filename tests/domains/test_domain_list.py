from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import Domain, DomainStatus
from tests.factories import make_domain

pytestmark = pytest.mark.django_db


def test_the_list_shows_only_the_accounts_domains_of_that_product(
    client, alice, charlie, cdn_domain, dcdn_domain
):
    make_domain(account=charlie.membership.account, name="www.other.example")
    client.force_login(alice)
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    assert "www.alpha.example" in body and "Manage" in body
    assert "dynamic.alpha.example" not in body and "www.other.example" not in body
    body = client.get(reverse("domains:list", kwargs={"product": "dcdn"})).content.decode()
    assert "dynamic.alpha.example" in body and "Configure" in body


def test_search_filters_by_name(client, alice, alpha):
    for name in ["shop.alpha.example", "blog.alpha.example"]:
        make_domain(account=alpha, name=name)
    client.force_login(alice)
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"}), {"q": "shop"}).content.decode()
    assert "shop.alpha.example" in body and "blog.alpha.example" not in body


def test_the_list_pages(client, alice, alpha):
    for i in range(25):
        make_domain(account=alpha, name=f"d{i:02}.alpha.example")
    client.force_login(alice)
    url = reverse("domains:list", kwargs={"product": "cdn"})
    first = client.get(url).content.decode()
    assert "d00.alpha.example" in first and "d20.alpha.example" not in first and "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "d20.alpha.example" in second and "d00.alpha.example" not in second


def test_a_viewer_sees_the_list_and_the_pane(client, bob, cdn_domain):
    client.force_login(bob)
    assert client.get(reverse("domains:list", kwargs={"product": "cdn"})).status_code == 200
    assert (
        client.get(reverse("domains:basic", kwargs={"product": "cdn", "name": cdn_domain.name})).status_code
        == 200
    )


@pytest.mark.parametrize("view", ["domains:basic", "domains:status"])
def test_another_account_gets_404_for_the_pane(client, charlie, cdn_domain, view):
    client.force_login(charlie)
    assert client.get(reverse(view, kwargs={"product": "cdn", "name": cdn_domain.name})).status_code == 404


def test_a_domain_is_not_found_under_the_other_product(client, alice, cdn_domain):
    client.force_login(alice)
    assert (
        client.get(reverse("domains:basic", kwargs={"product": "dcdn", "name": cdn_domain.name})).status_code
        == 404
    )


def _list(client, **params):
    return client.get(reverse("domains:list", kwargs={"product": "cdn"}), params).content.decode()


@pytest.fixture
def shop_domains(alpha):
    names = ["shop.alpha.example", "shop.beta.example", "myshop.alpha.example", "blog.alpha.example"]
    return [make_domain(account=alpha, name=name) for name in names]


@pytest.mark.parametrize(
    "match, query, expected",
    [
        ("fuzzy", "shop", {"shop.alpha.example", "shop.beta.example", "myshop.alpha.example"}),
        ("prefix", "shop", {"shop.alpha.example", "shop.beta.example"}),
        ("suffix", "alpha.example", {"shop.alpha.example", "myshop.alpha.example", "blog.alpha.example"}),
        ("exact", "shop.alpha.example", {"shop.alpha.example"}),
        ("exact", "shop", set()),
        ("fuzzy", "SHOP.Alpha", {"shop.alpha.example", "myshop.alpha.example"}),
    ],
)
def test_each_search_mode_finds_its_names(client, alice, shop_domains, match, query, expected):
    client.force_login(alice)
    body = _list(client, q=query, match=match)
    shown = {d.name for d in shop_domains if f'<td class="domain-name">{d.name}</td>' in body}
    assert shown == expected
    if not expected:
        assert "No domain names match." in body


def test_search_treats_like_wildcards_as_plain_characters(client, alice, shop_domains):
    client.force_login(alice)
    assert "No domain names match." in _list(client, q="sh_p")
    assert "No domain names match." in _list(client, q="%")


def test_the_status_filter_shows_only_that_status(client, alice, alpha, shop_domains):
    Domain.objects.filter(name="blog.alpha.example").update(status=DomainStatus.OFFLINE)
    client.force_login(alice)
    body = _list(client, status="offline")
    assert "blog.alpha.example" in body and "shop.alpha.example" not in body
    assert 'option value="offline" selected' in body


def test_the_list_sorts_by_name_and_by_creation_time(client, alice, alpha):
    now = timezone.now()
    for name, age in [("b.alpha.example", 3), ("a.alpha.example", 1), ("c.alpha.example", 2)]:
        domain = make_domain(account=alpha, name=name)
        Domain.objects.filter(pk=domain.pk).update(created_at=now - timedelta(days=age))
    client.force_login(alice)

    def order(**params):
        body = _list(client, **params)
        return sorted(
            ["a", "b", "c"], key=lambda n: body.index(f'<td class="domain-name">{n}.alpha.example</td>')
        )

    assert order() == ["a", "b", "c"]
    assert order(ordering="-name") == ["c", "b", "a"]
    assert order(ordering="-created_at") == ["a", "c", "b"]
    assert order(ordering="created_at") == ["b", "c", "a"]


@pytest.mark.parametrize("size", [20, 50, 100])
def test_the_page_size_sets_the_rows_per_page(client, alice, alpha, size):
    Domain.objects.bulk_create(
        Domain(account=alpha, name=f"d{i:03}.alpha.example", cname=f"d{i:03}.alpha.example.w.test")
        for i in range(120)
    )
    client.force_login(alice)
    body = _list(client, size=size)
    assert body.count('class="action"') == size
    assert f"Page 1 of {-(-120 // size)}" in body


def test_bad_filter_values_fall_back_to_the_defaults(client, alice, cdn_domain):
    client.force_login(alice)
    body = _list(client, size=7, match="regex", ordering="password", status="nope", page="x")
    assert "www.alpha.example" in body
    assert 'option value="20" selected' in body


def test_the_pages_keep_the_search_and_filters(client, alice, alpha):
    for i in range(25):
        make_domain(account=alpha, name=f"shop{i:02}.alpha.example")
    client.force_login(alice)
    body = _list(client, q="shop", match="prefix", ordering="-name")
    assert "q=shop&amp;match=prefix&amp;ordering=-name&amp;page=2" in body
    assert "shop24.alpha.example" in body and "shop00.alpha.example" not in body


@pytest.mark.parametrize("size", [20, 50, 100])
def test_the_number_of_queries_does_not_grow_with_the_page_size(
    client, alice, alpha, size, django_assert_num_queries
):
    Domain.objects.bulk_create(
        Domain(account=alpha, name=f"d{i:03}.alpha.example", cname=f"d{i:03}.alpha.example.w.test")
        for i in range(120)
    )
    client.force_login(alice)
    # session, user, membership with its account, the count, the page's rows
    with django_assert_num_queries(5):
        response = client.get(reverse("domains:list", kwargs={"product": "cdn"}), {"size": size, "page": 2})
    assert response.content.decode().count('class="action"') == min(size, 120 - size)


def test_htmx_requests_get_only_the_table(client, alice, cdn_domain):
    client.force_login(alice)
    response = client.get(
        reverse("domains:list", kwargs={"product": "cdn"}),
        {"q": "www"},
        headers={"HX-Request": "true", "HX-Target": "domain-table"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="domain-table"') and "www.alpha.example" in body


def test_owners_see_the_add_button_and_viewers_a_disabled_one(client, alice, bob):
    add_url = reverse("domains:add", kwargs={"product": "cdn"})
    client.force_login(alice)
    assert f'href="{add_url}">Add Domain Name</a>' in _list(client)
    client.force_login(bob)
    body = _list(client)
    assert add_url not in body
    assert "disabled" in body and "Add Domain Name" in body


def test_the_dcdn_list_has_its_own_add_link(client, alice):
    client.force_login(alice)
    body = client.get(reverse("domains:list", kwargs={"product": "dcdn"})).content.decode()
    assert reverse("domains:add", kwargs={"product": "dcdn"}) in body


def test_the_admin_changelist_searches_and_pages_the_domains(client, alpha, charlie):
    from django.contrib.auth import get_user_model

    Domain.objects.bulk_create(
        Domain(account=alpha, name=f"d{i:03}.alpha.example", cname=f"d{i:03}.alpha.example.w.test")
        for i in range(150)
    )
    make_domain(account=charlie.membership.account, name="www.other.example")
    operator = get_user_model().objects.create_superuser("operator", password="x")  # noqa: S106
    client.force_login(operator)
    url = reverse("admin:domains_domain_changelist")
    second = client.get(url, {"p": 2}).content.decode()
    assert "d100.alpha.example" in second and "www.other.example" in second
    assert "d099.alpha.example" not in second
    found = client.get(url, {"q": "D14"}).content.decode()
    assert all(f"d14{i}.alpha.example" in found for i in range(10))
    assert "d150.alpha.example" not in found and "d013.alpha.example" not in found


def test_a_search_counts_its_matches_up_to_a_limit(client, alice, alpha, monkeypatch):
    from domains import views

    monkeypatch.setattr(views, "SEARCH_COUNT_LIMIT", 30)
    Domain.objects.bulk_create(
        Domain(account=alpha, name=f"d{i:03}.alpha.example", cname=f"d{i:03}.alpha.example.w.test")
        for i in range(45)
    )
    client.force_login(alice)
    body = _list(client, q="alpha")
    assert "More than 30 domain names match: refine the search to see the others" in body
    assert "Page 1 of 2" in body
    body = _list(client, q="d04")
    assert "5 domain names" in body and "More than" not in body
    assert "45 domain names" in _list(client)
