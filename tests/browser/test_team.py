"""The Team page in Chromium: an owner adds a user who then logs on, changes a role and removes a member;
the last owner cannot step down."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase-2026"


def test_an_owner_manages_the_team(page: Page, live_server, celery_worker, demo, shots, browser):
    shot = shots("team")
    log_on(page, live_server.url)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Team").click()
    expect(page.locator("#member-demo .member-role")).to_have_text("Owner")
    expect(page.locator("#member-viewer .member-role")).to_have_text("Viewer (read-only)")
    shot("list")

    page.get_by_role("link", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Username").fill("erin")
    dialog.get_by_label("Password").fill("short")
    dialog.get_by_label("Role").select_option("admin")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_contain_text("too short")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#member-erin .member-role")).to_have_text("Administrator")

    page.get_by_role("link", name="Change role of demo").click()
    dialog = page.get_by_role("dialog", name="Change the role of demo")
    dialog.get_by_label("Role").select_option("viewer")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_contain_text("An account needs at least one owner")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#member-demo .member-role")).to_have_text("Owner")

    page.get_by_role("link", name="Change role of viewer").click()
    dialog = page.get_by_role("dialog", name="Change the role of viewer")
    dialog.get_by_label("Role").select_option("admin")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#member-viewer .member-role")).to_have_text("Administrator")
    expect(page.get_by_role("link", name="Remove demo")).to_have_count(0)

    page.get_by_role("link", name="Remove viewer").click()
    confirm = page.get_by_role("dialog", name="Remove user")
    expect(confirm).to_contain_text("Remove viewer from the account?")
    shot("confirm-remove")
    confirm.get_by_role("button", name="Remove").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#member-viewer")).to_have_count(0)

    # The new administrator logs on in a browser of their own and sees the team, without the owner's actions.
    other = browser.new_context().new_page()
    other.goto(f"{live_server.url}/login/")
    other.get_by_label("Username").fill("erin")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Log on").click()
    other.get_by_role("navigation", name="Console").get_by_role("link", name="Team").click()
    expect(other.locator("#member-erin")).to_contain_text("(you)")
    expect(other.get_by_role("link", name="Add user")).to_have_count(0)
    other.context.close()
