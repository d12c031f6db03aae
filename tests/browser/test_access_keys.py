"""AccessKeys in Chromium: the secret is shown once, signs a real API call, and is nowhere after a reload;
disabling and deleting (after confirmation) stop the key at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.alibaba_api.conftest import Key
from tests.alibaba_api.test_credentials_processes import call
from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_key_shows_its_secret_once_and_signs_api_calls(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("access-key")
    log_on(page, live_server.url)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="AccessKey").click()
    expect(page.get_by_role("heading", name="AccessKey")).to_be_visible()
    expect(page.locator("#access-key-table")).to_contain_text("You have no AccessKey yet.")
    page.get_by_role("button", name="Create AccessKey").click()

    dialog = page.get_by_role("dialog", name="AccessKey created")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Copy the AccessKey secret now: it will not be shown again.")
    key = Key(
        dialog.get_by_label("AccessKey ID").input_value(),
        dialog.get_by_label("AccessKey secret").input_value(),
    )
    assert key.access_key_id.startswith("LTAI") and len(key.secret) == 30
    shot("created")
    assert call(live_server.url, key) == "OK"

    dialog.get_by_role("button", name="I have saved the secret").click()
    expect(dialog).to_be_hidden()
    row = page.locator(f"#access-key-{key.access_key_id}")
    expect(row).to_contain_text("Enabled")
    page.reload()
    expect(row).to_contain_text(key.access_key_id)
    assert key.secret not in page.content()
    shot("listed")

    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("Disabled")
    assert call(live_server.url, key) == "InvalidAccessKeyId.Inactive"
    row.get_by_role("button", name="Enable").click()
    expect(row).to_contain_text("Enabled")
    assert call(live_server.url, key) == "OK"

    row.get_by_role("link", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete AccessKey")
    expect(confirm).to_contain_text(key.access_key_id)
    shot("confirm-delete")
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm).to_be_hidden()
    expect(row).to_have_count(0)
    assert call(live_server.url, key) == "InvalidAccessKeyId.NotFound"

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Operation Log").click()
    log = page.locator("#operation-table tbody tr")
    for index, text in enumerate(
        ["Delete AccessKey", "Enable AccessKey", "Disable AccessKey", "Create AccessKey"]
    ):
        expect(log.nth(index)).to_contain_text(text)
        expect(log.nth(index)).to_contain_text(key.access_key_id)
    assert key.secret not in page.content()
