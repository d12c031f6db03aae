"""Progress while a change deploys, the change in the history, and a rollback that the edge agents follow."""

from __future__ import annotations

import signal

import pytest
from playwright.sync_api import Page, expect

from domains.models import Domain
from tests.browser.test_origin_sni_journey import log_on, open_origin_sni_dialog
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_sni(page: Page, name: str) -> None:
    open_origin_sni_dialog(page, domain="www.example.com", product="cdn")
    dialog = page.get_by_role("dialog", name="Origin SNI")
    dialog.get_by_role("switch", name="Origin SNI").check()
    dialog.get_by_label("SNI", exact=True).fill(name)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()


def test_progress_history_and_rollback(page: Page, live_server, celery_worker, demo, shots):
    shot = shots("history")
    log_on(page, live_server.url)
    status = page.locator("#domain-status")
    # One edge node hangs while the change is saved: the progress line stops short of it, then moves on
    # to "3 of 3" by itself (the page polls; nobody reloads) once the node answers again.
    slow = demo[2].process
    assert slow is not None
    slow.send_signal(signal.SIGSTOP)
    try:
        set_sni(page, "origin-a.example.net")
        expect(status).to_contain_text("2 of 3 edge nodes", timeout=15_000)
        expect(status.locator(".badge").first).to_have_text("Configuring")
        shot("progress")
    finally:
        slow.send_signal(signal.SIGCONT)
    expect(status).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(status.locator(".badge").first).to_have_text("Enabled")
    set_sni(page, "origin-b.example.net")
    expect(status).to_contain_text("of 3 edge nodes")
    expect(status).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(status.locator(".badge").first).to_have_text("Enabled")

    page.get_by_role("link", name="Change history").click()
    history = page.locator("#revision-history")
    expect(history).to_contain_text("Origin SNI on: origin-b.example.net")
    expect(history.locator("#revision-3")).to_contain_text("origin-a.example.net")  # the diff: a → b
    shot("list")

    # Roll back asks in the console's own dialog, never the browser's confirm(): Cancel keeps everything.
    page.on("dialog", lambda dialog: pytest.fail(f"the browser's own dialog opened: {dialog.message}"))
    page.get_by_role("button", name="Roll back to revision 2").click()
    confirm = page.get_by_role("dialog", name="Please confirm")
    expect(confirm).to_contain_text(
        "Roll back to revision 2? The edge nodes will serve its configuration again."
    )
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    expect(page.get_by_role("button", name="Roll back to revision 2")).to_be_focused()
    assert Domain.objects.get(name="www.example.com").config_revision == 3
    page.get_by_role("button", name="Roll back to revision 2").click()
    shot("confirm")
    confirm.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status")).to_contain_text("Rolled back to revision 2 as revision 4")
    shot("rolled-back")
    for agent in demo:
        held = wait_for(
            lambda a=agent: (h := a.held("www.example.com")) and h["revision"] == 4 and h,
            what=f"{agent.name} to hold revision 4",
        )
        assert held["origin_sni"] == {"enabled": True, "name": "origin-a.example.net"}
    wait_for(lambda: Domain.objects.get(name="www.example.com").status == "online", what="online again")
