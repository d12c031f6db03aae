"""The Domain Names page (search, filters, sort, page size) and Add Domain Name, in Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import OperationLog, Role
from domains.models import Domain, DomainStatus, Origin
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(transactional_db):
    """alice owns account alpha, bob views it, charlie owns account other; each has some domains."""
    alpha = factories.make_account("alpha")
    other = factories.make_account("other")
    now = timezone.now()
    for number in range(24):
        name = f"{'shop' if number % 2 else 'blog'}{number:02}.alpha.example"
        domain = factories.make_domain(account=alpha, name=name)
        Domain.objects.filter(pk=domain.pk).update(created_at=now - timedelta(hours=number))
    Domain.objects.filter(name__in=["shop01.alpha.example", "blog02.alpha.example"]).update(
        status=DomainStatus.OFFLINE
    )
    factories.make_domain(account=alpha, name="api.alpha.example", product="dcdn")
    factories.make_domain(account=other, name="www.other.example")
    return {
        "alice": factories.make_user("alice", account=alpha, role=Role.OWNER),
        "bob": factories.make_user("bob", account=alpha, role=Role.VIEWER),
        "charlie": factories.make_user("charlie", account=other, role=Role.OWNER),
    }


def log_on(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log on").click()


def open_domain_names(page: Page, product: str = "cdn") -> None:
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Domain Names").nth(0 if product == "cdn" else 1).click()
    expect(page.get_by_role("heading", name="Domain Names")).to_be_visible()


def expect_names(page: Page, names: list[str]) -> None:
    """The table shows exactly these names, in this order (waiting for htmx to swap it in)."""
    expect(page.locator("#domain-table tbody tr td.domain-name")).to_have_text(names)


def test_search_filters_sort_and_page_size(page: Page, live_server, people, shots):
    shot = shots("list")
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    table = page.locator("#domain-table")
    expect(table).to_contain_text("24 domain names")
    expect(table).to_contain_text("Page 1 of 2")
    expect_names(
        page, sorted(d.name for d in Domain.objects.filter(product="cdn", account__name="alpha"))[:20]
    )

    # Fuzzy search (the default) for "shop", then the same text as a prefix, suffix and exact match
    page.get_by_label("Search by domain name").fill("op1")
    page.get_by_label("Search by domain name").press("Enter")
    expect(table).to_contain_text("5 domain names")
    expect_names(page, [f"shop{n}.alpha.example" for n in (11, 13, 15, 17, 19)])
    expect(page).to_have_url(
        f"{live_server.url}/cdn/domains/?match=fuzzy&q=op1&status=&ordering=name&size=20"
    )

    page.get_by_label("Match").select_option(label="Prefix match")
    page.get_by_label("Search by domain name").fill("blog1")
    page.get_by_role("button", name="Search").click()
    expect(table).to_contain_text("5 domain names")
    expect_names(page, [f"blog{n}.alpha.example" for n in (10, 12, 14, 16, 18)])
    shot("prefix-search")

    page.get_by_label("Match").select_option(label="Suffix match")
    page.get_by_label("Search by domain name").fill("07.alpha.example")
    page.get_by_role("button", name="Search").click()
    expect(table).to_contain_text("1 domain name")
    expect_names(page, ["shop07.alpha.example"])

    page.get_by_label("Match").select_option(label="Exact match")
    page.get_by_label("Search by domain name").fill("shop0")
    page.get_by_role("button", name="Search").click()
    expect(table).to_contain_text("No domain names match.")
    page.get_by_label("Search by domain name").fill("shop03.alpha.example")
    page.get_by_role("button", name="Search").click()
    expect_names(page, ["shop03.alpha.example"])

    # The status filter applies as soon as it is chosen
    page.get_by_label("Search by domain name").fill("")
    page.get_by_label("Status").select_option(label="Disabled")
    expect(table).to_contain_text("2 domain names")
    expect_names(page, ["blog02.alpha.example", "shop01.alpha.example"])
    expect(table.get_by_role("row").filter(has_text="shop01")).to_contain_text("Disabled")

    # Sort and page size
    page.get_by_label("Status").select_option(label="All statuses")
    expect(table).to_contain_text("24 domain names")
    page.get_by_label("Sort by").select_option(label="Domain name (Z to A)")
    expect(table.locator("tbody tr").first).to_contain_text("shop23.alpha.example")
    page.get_by_label("Sort by").select_option(label="Created at (oldest first)")
    expect(table.locator("tbody tr").first).to_contain_text("shop23.alpha.example")
    page.get_by_label("Sort by").select_option(label="Created at (newest first)")
    expect(table.locator("tbody tr").first).to_contain_text("blog00.alpha.example")
    page.get_by_role("link", name="Next").click()
    expect(table).to_contain_text("Page 2 of 2")
    expect_names(page, [f"{'shop' if n % 2 else 'blog'}{n:02}.alpha.example" for n in range(20, 24)])
    page.get_by_label("Page size").select_option(label="50 per page")
    expect(table).to_contain_text("24 domain names")
    expect(table.locator("tbody tr")).to_have_count(24)

    # The address keeps the search: reloading shows the same page
    page.reload()
    expect(page.get_by_label("Page size")).to_have_value("50")
    expect(page.locator("#domain-table tbody tr")).to_have_count(24)


def fill_origin(
    page: Page, number: int, kind: str, address: str, port: str, priority: str = "Primary"
) -> None:
    page.get_by_label(f"Origin type of origin {number}", exact=True).select_option(label=kind)
    page.get_by_label(f"Origin address of origin {number}", exact=True).fill(address)
    page.get_by_label(f"Port of origin {number}", exact=True).fill(port)
    page.get_by_label(f"Priority of origin {number}", exact=True).select_option(label=priority)


def test_an_owner_adds_a_cdn_domain_with_two_origins(page: Page, live_server, people, shots):
    shot = shots("add")
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    page.get_by_role("link", name="Add Domain Name").click()
    expect(page.get_by_role("heading", name="Add Domain Name")).to_be_visible()

    page.get_by_label("Domain name", exact=True).fill("new.alpha.example")
    page.get_by_label("Large file download").check()
    page.get_by_label("Global", exact=True).check()
    fill_origin(page, 1, "IP address", "203.0.113.10", "443")
    page.get_by_role("button", name="Add origin").click()
    expect(page.get_by_label("Origin address of origin 1", exact=True)).to_have_value("203.0.113.10")
    fill_origin(page, 2, "Domain name", "backup.origin.example", "80", priority="Backup")
    shot("filled")
    page.get_by_role("button", name="Submit").click()

    # The new domain's management pane
    expect(page).to_have_url(f"{live_server.url}/cdn/domains/new.alpha.example/")
    expect(page.locator("main")).to_contain_text("new.alpha.example.w.cdnconsole.net")
    expect(page.locator("main")).to_contain_text("Large file download")
    origins = page.locator("section[aria-labelledby=origins-heading]")
    expect(origins).to_contain_text("203.0.113.10")
    expect(origins).to_contain_text("backup.origin.example")
    shot("added")

    open_domain_names(page)
    page.get_by_label("Search by domain name").fill("new.alpha")
    page.get_by_label("Search by domain name").press("Enter")
    row = page.locator("#domain-table").get_by_role("row").filter(has_text="new.alpha.example")
    expect(row).to_contain_text("new.alpha.example.w.cdnconsole.net")
    expect(row.get_by_role("link", name="Manage")).to_be_visible()
    domain = Domain.objects.get(name="new.alpha.example")
    assert (domain.product, domain.business_type, domain.coverage) == ("cdn", "download", "global")
    assert [(o.address, o.port, o.priority) for o in domain.origins.all()] == [
        ("203.0.113.10", 443, 20),
        ("backup.origin.example", 80, 30),
    ]


def test_an_owner_adds_a_wildcard_dcdn_domain(page: Page, live_server, people):
    log_on(page, live_server.url, "alice")
    open_domain_names(page, "dcdn")
    page.get_by_role("link", name="Add Domain Name").click()
    expect(page.get_by_label("Dynamic and static acceleration")).to_be_checked()
    page.get_by_label("Domain name", exact=True).fill("*.img.alpha.example")
    fill_origin(page, 1, "Domain name", "origin.alpha.example", "443")
    page.get_by_label("Domain name", exact=True).press("Enter")  # Enter submits, as the Submit button

    expect(page.locator("main")).to_contain_text("all.img.alpha.example.w.cdnconsole.net")
    open_domain_names(page, "dcdn")
    row = page.locator("#domain-table").get_by_role("row").filter(has_text="*.img.alpha.example")
    row.get_by_role("link", name="Configure").click()
    expect(page.locator("main")).to_contain_text("Dynamic and static acceleration")


@pytest.mark.parametrize(
    "name, origin, field, message",
    [
        ("shop01.alpha.example", ("203.0.113.10", "80"), "#id_name_error", "already added"),
        ("www.other.example", ("203.0.113.10", "80"), "#id_name_error", "already added"),
        ("new.alpha.example", ("203.0.113.999", "80"), "#id_origin-0-address_error", "not an IP address"),
        ("new.alpha.example", ("203.0.113.10", "70000"), "#id_origin-0-port_error", "between 1 and 65535"),
    ],
    ids=["own-duplicate", "another-accounts-name", "bad-origin-address", "bad-port"],
)
def test_refusals_show_next_to_the_field_and_save_nothing(
    page: Page, live_server, people, shots, name, origin, field, message
):
    before = (Domain.objects.count(), Origin.objects.count(), OperationLog.objects.count())
    log_on(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/cdn/domains/add/")
    page.get_by_label("Domain name", exact=True).fill(name)
    fill_origin(page, 1, "IP address", *origin)
    page.get_by_role("button", name="Submit").click()

    error = page.locator(field)
    expect(error).to_contain_text(message)
    expect(page.get_by_role("heading", name="Add Domain Name")).to_be_visible()
    expect(page.get_by_label("Domain name", exact=True)).to_have_value(name)
    if field.endswith("port_error"):
        shots("add-refused")("bad-port")
    if name == "www.other.example":
        expect(error).to_have_text(
            "The domain name www.other.example is already added to the CDN. "
            "Each domain name can be added only once."
        )
        expect(page.locator("main")).not_to_contain_text("charlie")
        expect(page.locator("main")).not_to_contain_text("Other")
    assert (Domain.objects.count(), Origin.objects.count(), OperationLog.objects.count()) == before


def test_a_viewer_cannot_add_a_domain(page: Page, live_server, people):
    log_on(page, live_server.url, "bob")
    open_domain_names(page)
    expect(page.get_by_role("button", name="Add Domain Name")).to_be_disabled()
    expect(page.get_by_role("link", name="Add Domain Name")).to_have_count(0)
    response = page.goto(f"{live_server.url}/cdn/domains/add/")
    assert response is not None and response.status == 403
