"""The Domain Names list's row and batch actions in Chromium: the console's own confirmation dialogs (never
the browser's), the table refreshing itself after each, the CNAME's Copy button; axe-core finds nothing
serious."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from domains.models import Domain, DomainStatus, OriginFetchSettings
from tests import factories
from tests.browser.test_accessibility import AXE, serious_violations
from tests.browser.test_domain_list_and_add import log_on, open_domain_names
from tests.conftest import require

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["one.alpha.example", "three.alpha.example", "two.alpha.example"]


@pytest.fixture
def people(transactional_db):
    """alice owns account alpha (three CDN domains), bob views it."""
    alpha = factories.make_account("alpha")
    for name in NAMES:
        factories.make_domain(account=alpha, name=name)
    Domain.objects.update(status=DomainStatus.ONLINE)
    OriginFetchSettings.objects.filter(domain__name="one.alpha.example").update(
        sni_enabled=True, sni_name="origin.alpha.example"
    )
    return {
        "alice": factories.make_user("alice", account=alpha, role=Role.OWNER),
        "bob": factories.make_user("bob", account=alpha, role=Role.VIEWER),
    }


@pytest.fixture
def axe() -> Path:
    require(AXE.exists(), "needs axe-core from package-lock.json: run `npm ci` at the repository root")
    return AXE


@pytest.fixture
def no_browser_dialogs(page: Page):
    """Fails the test if the page ever opens the browser's own confirm() or alert()."""
    opened: list[str] = []
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))
    yield
    assert opened == []


def row(page: Page, name: str):
    return page.locator("#domain-table tbody tr").filter(has=page.locator("td.domain-name", has_text=name))


def test_row_actions_disable_enable_and_delete_through_the_consoles_dialogs(
    page: Page, live_server, people, no_browser_dialogs, axe
):
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    assert serious_violations(page, axe) == [], "Domain Names list"

    row(page, "two.alpha.example").get_by_role("button", name="Disable two.alpha.example").click()
    confirm = page.get_by_role("alertdialog", name="Disable domain name")
    expect(confirm).to_contain_text("two.alpha.example")
    assert serious_violations(page, axe) == [], "Disable dialog"
    confirm.get_by_role("button", name="Disable").click()
    expect(confirm).to_be_hidden()
    expect(row(page, "two.alpha.example").locator(".badge")).to_have_text("Disabled")
    assert Domain.objects.get(name="two.alpha.example").status == DomainStatus.OFFLINE

    row(page, "two.alpha.example").get_by_role("button", name="Enable two.alpha.example").click()
    page.get_by_role("alertdialog", name="Enable domain name").get_by_role("button", name="Enable").click()
    expect(
        row(page, "two.alpha.example").get_by_role("button", name="Disable two.alpha.example")
    ).to_be_visible()
    assert Domain.objects.get(name="two.alpha.example").status != DomainStatus.OFFLINE

    row(page, "three.alpha.example").get_by_role("button", name="Delete three.alpha.example").click()
    confirm = page.get_by_role("alertdialog", name="Delete domain name")
    confirm.get_by_label("Enter the domain name to confirm").fill("three.alpha.example")
    confirm.get_by_role("button", name="Delete").click()
    expect(page.locator("main")).to_contain_text("three.alpha.example is deleted.")
    expect(page.locator("#domain-table td.domain-name")).to_have_text(
        ["one.alpha.example", "two.alpha.example"]
    )


def test_batch_disable_enable_and_delete_of_the_checked_rows(
    page: Page, live_server, people, no_browser_dialogs, axe
):
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    batch = page.get_by_role("group", name="Batch actions")
    expect(batch.get_by_role("button", name="Disable")).to_be_disabled()

    page.get_by_label("Select one.alpha.example").check()
    page.get_by_label("Select two.alpha.example").check()
    expect(batch).to_contain_text("Selected: 2")
    batch.get_by_role("button", name="Disable").click()
    confirm = page.get_by_role("alertdialog", name="Disable domain names")
    expect(confirm).to_contain_text("Disable these 2 domain names?")
    expect(confirm.locator(".batch-names li")).to_have_text(["one.alpha.example", "two.alpha.example"])
    assert serious_violations(page, axe) == [], "batch dialog"
    confirm.get_by_role("button", name="Disable").click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("2 domain names disabled.")
    expect(row(page, "one.alpha.example").locator(".badge")).to_have_text("Disabled")
    expect(row(page, "two.alpha.example").locator(".badge")).to_have_text("Disabled")
    expect(row(page, "three.alpha.example").locator(".badge")).to_have_text("Enabled")

    page.get_by_label("Select all domain names on this page").check()
    expect(batch).to_contain_text("Selected: 3")
    batch.get_by_role("button", name="Enable").click()
    page.get_by_role("alertdialog", name="Enable domain names").get_by_role("button", name="Enable").click()
    expect(page.get_by_role("status")).to_contain_text("3 domain names enabled.")
    assert DomainStatus.OFFLINE not in set(Domain.objects.values_list("status", flat=True))

    page.get_by_label("Select two.alpha.example").check()
    page.get_by_label("Select three.alpha.example").check()
    batch.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("alertdialog", name="Delete domain names")
    confirm.get_by_role("button", name="Cancel").click()  # cancelled: nothing happens
    expect(confirm).to_be_hidden()
    assert Domain.objects.filter(deleted_at__isnull=True).count() == 3
    batch.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog", name="Delete domain names").get_by_role("button", name="Delete").click()
    expect(page.locator("#domain-table td.domain-name")).to_have_text(["one.alpha.example"])
    assert list(Domain.objects.filter(deleted_at__isnull=True).values_list("name", flat=True)) == [
        "one.alpha.example"
    ]


def test_copy_configuration_to_other_domains(page: Page, live_server, people, no_browser_dialogs, axe):
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    row(page, "one.alpha.example").get_by_role("button", name="Copy Configuration one.alpha.example").click()
    dialog = page.get_by_role("dialog", name="Copy Configuration")
    assert serious_violations(page, axe) == [], "Copy Configuration dialog"
    field = dialog.get_by_label("Copy to domain names")
    field.fill("nowhere.alpha.example")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Not a domain name of this account and product")
    expect(dialog.get_by_label("Copy to domain names")).to_be_focused()
    dialog.get_by_label("Copy to domain names").fill("two.alpha.example\nthree.alpha.example")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("copied to 2 domain names")
    for name in ("two.alpha.example", "three.alpha.example"):
        assert OriginFetchSettings.objects.get(domain__name=name).sni_name == "origin.alpha.example"


def test_the_cname_copy_button_copies_it(page: Page, live_server, people):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_on(page, live_server.url, "alice")
    open_domain_names(page)
    button = page.get_by_role("button", name="Copy two.alpha.example.w.test.net")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == "two.alpha.example.w.test.net"


def test_a_viewer_gets_no_write_action(page: Page, live_server, people):
    log_on(page, live_server.url, "bob")
    open_domain_names(page)
    expect(
        row(page, "one.alpha.example").get_by_role("link", name="Manage one.alpha.example")
    ).to_be_visible()
    expect(page.get_by_role("group", name="Batch actions")).to_have_count(0)
    expect(page.locator("#domain-table").get_by_role("checkbox")).to_have_count(0)
    expect(
        page.locator("#domain-table").get_by_role("button", name="Delete one.alpha.example")
    ).to_have_count(0)


def test_the_cname_hint_shows_where_dns_does_not_point_at_the_cname(
    page: Page, live_server, people, settings
):
    from django.core.cache import cache

    from tests.dnsmasq import DnsServer

    dns = DnsServer().start()
    try:
        dns.set_cnames({"one.alpha.example": "one.alpha.example.w.test.net"})
        settings.VERIFY_DNS_RESOLVER = [dns.address]
        cache.clear()
        log_on(page, live_server.url, "alice")
        open_domain_names(page)
        expect(row(page, "two.alpha.example").locator(".cname-hint")).to_contain_text("CNAME not yet pointed")
        expect(row(page, "three.alpha.example").locator(".cname-hint")).to_contain_text(
            "CNAME not yet pointed"
        )
        expect(row(page, "one.alpha.example").locator(".cname-hint")).to_have_text(
            "CNAME pointed"
        )  # for readers
        expect(row(page, "one.alpha.example").locator(".cname-hint")).not_to_contain_text("not yet")
    finally:
        dns.remove()
        cache.clear()


def test_origin_host_by_type_in_the_dialog(page: Page, live_server, people, no_browser_dialogs):
    domain = Domain.objects.get(name="two.alpha.example")
    domain.origins.update(type="domain", address="origin.alpha.example")
    log_on(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/cdn/domains/two.alpha.example/origin-fetch/")
    expect(page.locator("#origin-host-type")).to_have_text("Accelerated domain")
    page.locator("#origin-host-modify").click()
    dialog = page.get_by_role("dialog", name="Origin host")
    dialog.get_by_label("Origin domain").check()
    # A name typed, then left behind by choosing another type: refused, never dropped.
    dialog.get_by_role("textbox", name="Custom origin host").fill("typed.alpha.example")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_contain_text("clear typed.alpha.example, or choose Custom domain")
    dialog.get_by_role("textbox", name="Custom origin host").fill("")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#origin-host-type")).to_have_text("Origin domain")
    expect(page.locator("#origin-host")).to_contain_text("origin.alpha.example")
    assert OriginFetchSettings.objects.get(domain=domain).origin_host == "origin.alpha.example"
