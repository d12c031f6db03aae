"""The Origin SNI journey of SPEC.md §2 in Chromium, clicking the visible labels, for CDN and DCDN."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from domains.models import Domain, OriginFetchSettings
from edge.models import ConfigRevision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_on(page: Page, base_url: str, username: str = "demo", shot=lambda step: None) -> None:
    page.goto(f"{base_url}/login/")
    shot("log-on")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(os.environ["DEMO_PASSWORD"])
    page.get_by_role("button", name="Log on").click()


def open_origin_sni_dialog(page: Page, *, domain: str, product: str, shot=lambda step: None) -> None:
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Domain Names").nth(0 if product == "cdn" else 1).click()
    shot("domain-names")
    action, tab = ("Manage", "Back-to-origin") if product == "cdn" else ("Configure", "Origin Fetch")
    page.get_by_role("row").filter(has_text=domain).get_by_role("link", name=action).click()
    shot("management-pane")
    page.get_by_role("link", name=tab).click()
    shot(tab.lower().replace(" ", "-"))
    page.locator("#origin-sni-section").get_by_role("button", name="Modify", exact=True).click()
    expect(page.get_by_role("dialog", name="Origin SNI")).to_be_visible()
    shot("modify")


@pytest.mark.parametrize(
    "domain, product, sni",
    [
        ("www.example.com", "cdn", "origin-a.example.net"),
        ("dynamic.example.com", "dcdn", "api-origin.example.net"),
    ],
)
def test_a_customer_turns_on_origin_sni_and_every_edge_applies_it(
    page: Page, live_server, celery_worker, demo, shots, domain, product, sni
):
    shot = shots(product)
    log_on(page, live_server.url, shot=shot)
    open_origin_sni_dialog(page, domain=domain, product=product, shot=shot)
    dialog = page.get_by_role("dialog", name="Origin SNI")
    if product == "dcdn":
        expect(dialog).to_contain_text(
            "SNI supports only specific domain names. Wildcard domain names are not supported."
        )
    dialog.get_by_role("switch", name="Origin SNI").check()
    dialog.get_by_label("SNI", exact=True).fill(sni)
    shot("dialog-filled")
    dialog.get_by_role("button", name="OK").click()

    expect(dialog).to_be_hidden()
    section = page.locator("#origin-sni-section")
    expect(section.locator("#origin-sni-name")).to_have_text(sni)
    shot("saved")
    expect(section.locator("#origin-sni-state")).to_have_text("Enabled")
    expect(page.locator("#domain-status")).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(page.locator("#domain-status .badge").first).to_have_text("Enabled")
    shot("applied")

    revision = Domain.objects.get(name=domain).config_revision
    for agent in demo:
        held = agent.held(domain)
        assert held["revision"] == revision
        assert held["origin_sni"] == {"enabled": True, "name": sni}


@pytest.mark.parametrize(
    "domain, name, message",
    [
        ("www.example.com", "*.example.com", "Wildcard domain names are not supported"),
        ("www.example.com", "203.0.113.10", "IP address"),
        ("www.example.com", "https://origin.example.com", "scheme"),
        ("www.example.com", "origin.example.com:443", "port"),
        ("www.example.com", "", "required"),
        (
            "http-only.example.com",
            "origin.example.com",
            "Origin SNI requires back-to-origin over HTTPS (port 443)",
        ),
    ],
)
def test_bad_input_keeps_the_dialog_open_with_its_message_and_changes_nothing(
    page: Page, live_server, celery_worker, demo, shots, domain, name, message
):
    agents_before = [agent.status() for agent in demo]
    revisions_before = ConfigRevision.objects.count()
    log_on(page, live_server.url)
    open_origin_sni_dialog(page, domain=domain, product="cdn")
    dialog = page.get_by_role("dialog", name="Origin SNI")
    dialog.get_by_role("switch", name="Origin SNI").check()
    dialog.get_by_label("SNI", exact=True).fill(name)
    dialog.get_by_role("button", name="OK").click()

    expect(dialog.get_by_role("alert")).to_contain_text(message, ignore_case=True)
    expect(dialog).to_be_visible()
    if name.startswith("*"):
        shots("cdn-refused")("wildcard")
    settings = OriginFetchSettings.objects.get(domain__name=domain)
    assert (settings.sni_enabled, settings.sni_name) == (False, "")
    assert ConfigRevision.objects.count() == revisions_before
    assert Domain.objects.get(name=domain).config_revision == 1
    assert [agent.status() for agent in demo] == agents_before
