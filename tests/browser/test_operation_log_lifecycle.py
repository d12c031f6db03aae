"""A domain's whole life in the console, in Chromium: added, origins edited, disabled, enabled, deleted;
the Operation Log then lists each of these changes, newest first, with who made it and from where."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domains.models import Domain
from tests.browser.test_domain_list_and_add import fill_origin
from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOMAIN = "shop.example.com"


def test_every_change_of_a_domains_life_is_in_the_operation_log(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Domain Names").first.click()
    page.get_by_role("link", name="Add Domain Name").click()
    page.get_by_label("Domain name", exact=True).fill(DOMAIN)
    fill_origin(page, 1, "IP address", "203.0.113.20", "80")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Basic Information")).to_be_visible()

    origins = page.locator("section[aria-labelledby=origins-heading]")
    origins.get_by_role("button", name="Add origin").click()
    dialog = page.get_by_role("dialog", name="Add origin")
    dialog.get_by_label("Type").select_option(label="IP address")
    dialog.get_by_label("Address").fill("203.0.113.21")
    dialog.get_by_label("Port").fill("80")
    dialog.get_by_role("button", name="OK").click()
    expect(origins.get_by_role("row").filter(has_text="203.0.113.21")).to_have_count(1)

    origins.get_by_role("button", name="Modify origin 203.0.113.21").click()
    dialog = page.get_by_role("dialog", name="Modify origin 203.0.113.21")
    dialog.get_by_label("Weight").fill("40")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()

    origins.get_by_role("button", name="Remove origin 203.0.113.20").click()
    page.get_by_role("alertdialog", name="Remove origin").get_by_role("button", name="Remove").click()
    expect(origins.get_by_role("row").filter(has_text="203.0.113.20")).to_have_count(0)

    info = page.locator("#info-section")
    for action in ("Disable", "Enable"):
        info.get_by_role("button", name=action).click()
        confirm = page.get_by_role("alertdialog", name=f"{action} domain name")
        confirm.get_by_role("button", name=action).click()
        expect(confirm).to_be_hidden()
    expect(info.get_by_role("button", name="Disable")).to_be_visible()

    info.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("alertdialog", name="Delete domain name")
    confirm.get_by_label("Enter the domain name to confirm").fill(DOMAIN)
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text(f"{DOMAIN} is deleted")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Operation Log").click()
    page.get_by_label("Domain name").fill(DOMAIN)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#operation-table tbody tr")
    expected = [
        "Delete domain name",
        "Enable domain name",
        "Disable domain name",
        "Remove origin",
        "Modify origin",
        "Add origin",
        "Add domain name",
    ]
    expect(rows).to_have_count(len(expected))
    for row, action in zip(rows.all(), expected, strict=True):
        expect(row).to_contain_text(action)
        expect(row).to_contain_text("demo")
        expect(row).to_contain_text("Console")
        expect(row).to_contain_text(DOMAIN)
    expect(rows.filter(has_text="Modify origin").locator(".diff")).to_contain_text("10 → 40")
    # The entries outlive the domain, which is soft-deleted until every edge has dropped it.
    assert not Domain.objects.filter(name=DOMAIN, deleted_at__isnull=True).exists()
