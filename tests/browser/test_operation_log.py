"""The Operation Log in Chromium: a change made in the console shows who, source, domain and before → after,
and the log filters by domain and by user; the domain's pane has the same log in its Operation Log tab."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounts.audit import ChangeContext
from accounts.models import Source
from domains.models import Domain
from origin_fetch.services import origin_host_update
from tests.browser.test_origin_sni_journey import log_on, open_origin_sni_dialog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_change_shows_in_the_operation_log_which_filters_by_domain_and_user(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("operation-log")
    demo_user = get_user_model().objects.get(username="demo")
    origin_host_update(
        domain=Domain.objects.get(name="dynamic.example.com"),
        host="api.example.com",
        context=ChangeContext(demo_user, Source.REST),
    )
    origin_host_update(
        domain=Domain.objects.get(name="oss.example.com"),
        host="files.example.com",
        context=ChangeContext.system(),
    )

    log_on(page, live_server.url)
    open_origin_sni_dialog(page, domain="www.example.com", product="cdn")
    dialog = page.get_by_role("dialog", name="Origin SNI")
    dialog.get_by_role("switch", name="Origin SNI").check()
    dialog.get_by_label("SNI", exact=True).fill("origin-a.example.net")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Operation Log").click()
    expect(page.get_by_role("heading", name="Operation Log")).to_be_visible()
    log = page.locator("#operation-table tbody tr")
    expect(log).to_have_count(3)
    newest = log.first
    for text in ("demo", "Console", "www.example.com", "Modify Origin SNI"):
        expect(newest).to_contain_text(text)
    expect(newest.locator(".diff li")).to_have_text(["Origin SNI: off → on", "SNI: — → origin-a.example.net"])
    expect(newest).not_to_contain_text("{")
    shot("list")

    page.get_by_label("Domain name").fill("dynamic.example.com")
    page.get_by_role("button", name="Search").click()
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("REST API")
    expect(log.first).to_contain_text("api.example.com")
    assert "domain=dynamic.example.com" in page.url
    shot("by-domain")

    page.get_by_label("Domain name").fill("")
    page.get_by_label("User").fill("system")
    page.get_by_role("button", name="Search").click()
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("oss.example.com")
    page.get_by_label("User").fill("demo")
    page.get_by_role("button", name="Search").click()
    expect(log).to_have_count(2)
    expect(page.locator("#operation-table")).not_to_contain_text("oss.example.com")
    shot("by-user")

    page.goto(f"{live_server.url}/cdn/domains/www.example.com/")
    page.get_by_role("navigation", name="Domain settings").get_by_role("link", name="Operation Log").click()
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("Modify Origin SNI")
    expect(log.first).to_contain_text("origin-a.example.net")
    shot("domain-tab")
