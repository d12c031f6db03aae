"""Every Back-to-origin dialog, each field typed in and each option chosen: what was typed is saved (the
section shows it) or refused with a message in the dialog, never dropped. (The origin, tag, domain, team and
AccessKey dialogs are walked the same way in test_domain_pane, test_domain_tags, test_team and
test_access_keys.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAB = "/cdn/domains/www.example.com/origin-fetch/"


def ok(page: Page, dialog) -> None:
    """Press OK and expect the dialog saved: it closes and the notice says what happens next."""
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#notice-root")).to_contain_text("Saved.")


def refused(dialog, message: str) -> None:
    """Press OK and expect the dialog to stay open with the message."""
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert").filter(has_text=message)).to_be_visible()


def open_dialog(page: Page, opener: str, name: str):
    page.locator(opener).click()
    dialog = page.get_by_role("dialog", name=name)
    expect(dialog).to_be_visible()
    return dialog


def test_the_origin_sni_dialog_saves_or_refuses_what_was_typed(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    dialog = open_dialog(page, "#origin-sni-modify", "Origin SNI")
    switch = dialog.get_by_role("switch", name="Origin SNI")
    switch.check()
    dialog.get_by_label("SNI", exact=True).fill("*.example.com")
    refused(dialog, "Wildcard domain names are not supported")
    dialog.get_by_label("SNI", exact=True).fill("origin-a.example.net")
    ok(page, dialog)
    expect(page.locator("#origin-sni-name")).to_have_text("origin-a.example.net")
    expect(page.locator("#origin-sni-state")).to_have_text("Enabled")

    # Off, with a new name typed: the name is kept for later, and shown.
    dialog = open_dialog(page, "#origin-sni-modify", "Origin SNI")
    dialog.get_by_role("switch", name="Origin SNI").uncheck()
    dialog.get_by_label("SNI", exact=True).fill("origin-b.example.net")
    ok(page, dialog)
    expect(page.locator("#origin-sni-state")).to_have_text("Disabled")
    expect(page.locator("#origin-sni-name")).to_have_text("origin-b.example.net")


def test_the_per_origin_sni_dialog_never_drops_a_typed_name(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    opener = "#origin-sni-section tbody button >> nth=0"
    row = page.locator("#origin-sni-section tbody tr").first

    # Each option that ignores the name refuses it, with a message, and saves nothing.
    for option in ("Use the domain's Origin SNI", "Follow the origin address", "Follow the origin host"):
        dialog = page.locator("#origin-sni-host-dialog")
        page.locator(opener).click()
        expect(dialog).to_be_visible()
        dialog.get_by_role("radio", name=option).check()
        dialog.get_by_label("SNI", exact=True).fill("typed.example.net")
        refused(dialog, "does not use the name you typed")
        expect(dialog.get_by_label("SNI", exact=True)).to_have_value("typed.example.net")
        # The same option with the field cleared saves.
        dialog.get_by_label("SNI", exact=True).fill("")
        ok(page, dialog)
        because = {
            "Use the domain's Origin SNI": "No SNI is sent",
            "Follow the origin address": "Follows the origin address",
            "Follow the origin host": "Follows the origin host",
        }[option]
        expect(row).to_contain_text(because)

    # "A specific name": empty is refused; a name is saved and shown.
    page.locator(opener).click()
    dialog = page.locator("#origin-sni-host-dialog")
    dialog.get_by_role("radio", name="A specific name").check()
    dialog.get_by_label("SNI", exact=True).fill("")
    refused(dialog, "Enter the SNI of this origin")
    dialog.get_by_label("SNI", exact=True).fill("typed.example.net")
    ok(page, dialog)
    expect(row).to_contain_text("typed.example.net")
    expect(row).to_contain_text("SNI set for this origin")


def test_the_protocol_dialog_saves_each_option_and_refuses_a_bad_port(
    page: Page, live_server, celery_worker, demo
):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    for option, shown in (("HTTP", "HTTP"), ("Match client", "Match client"), ("HTTPS", "HTTPS")):
        dialog = open_dialog(page, "#protocol-modify", "Origin protocol policy")
        dialog.get_by_role("switch", name="Origin protocol policy").check()
        dialog.get_by_role("radio", name=option, exact=True).check()
        dialog.get_by_label("HTTP port").fill("8080")
        dialog.get_by_label("HTTPS port").fill("70000")
        refused(dialog, "65535")
        dialog.get_by_label("HTTPS port").fill("443")
        ok(page, dialog)
        expect(page.locator("#protocol-policy")).to_have_text(shown)
        expect(page.locator("#protocol-ports")).to_have_text("HTTP 8080 · HTTPS 443")

    dialog = open_dialog(page, "#protocol-modify", "Origin protocol policy")
    dialog.get_by_role("switch", name="Origin protocol policy").uncheck()
    ok(page, dialog)
    expect(page.locator("#protocol-state")).to_have_text("Disabled")


def test_the_origin_host_and_verification_dialogs(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    # Each type of origin host (a name typed under another type is refused: test_domain_list_actions).
    dialog = open_dialog(page, "#origin-host-modify", "Origin host")
    dialog.get_by_label("Custom domain").check()
    custom = dialog.get_by_role("textbox", name="Custom origin host")
    custom.fill("origin.example.net:8080")
    refused(dialog, "port")
    custom.fill("origin.example.net")
    ok(page, dialog)
    expect(page.locator("#origin-host")).to_contain_text("origin.example.net")
    expect(page.locator("#origin-host-type")).to_have_text("Custom domain")

    dialog = open_dialog(page, "#origin-host-modify", "Origin host")
    dialog.get_by_label("Origin domain").check()
    dialog.get_by_role("textbox", name="Custom origin host").fill("")
    ok(page, dialog)
    expect(page.locator("#origin-host-type")).to_have_text("Origin domain")

    dialog = open_dialog(page, "#origin-host-modify", "Origin host")
    dialog.get_by_label("Accelerated domain").check()
    ok(page, dialog)
    expect(page.locator("#origin-host-type")).to_have_text("Accelerated domain")

    for state in ("Enabled", "Disabled"):
        dialog = open_dialog(page, "#verification-modify", "Origin certificate verification")
        switch = dialog.get_by_role("switch", name="Origin certificate verification")
        switch.set_checked(state == "Enabled")
        ok(page, dialog)
        expect(page.locator("#verification-state")).to_have_text(state)
