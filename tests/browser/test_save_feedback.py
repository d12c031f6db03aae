"""Feedback on a save: OK is busy while the save is on its way and cannot send it twice, then a notice says
what happens next; the progress line stays across a reload while a node lags, its details stay open while the
line polls, a failure reads in words (the technical detail one click away) and Retry delivers to the node once
its agent is back."""

from __future__ import annotations

import signal

import pytest
from playwright.sync_api import Page, Route, expect

from domains.models import Domain
from tests.browser.test_origin_sni_journey import log_on
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAB = "/cdn/domains/www.example.com/origin-fetch/"
BASIC = "/cdn/domains/www.example.com/"


def open_origin_host_dialog(page: Page):
    page.locator("#origin-host-modify").click()
    dialog = page.get_by_role("dialog", name="Origin host")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Custom domain").check()
    return dialog


def test_a_save_is_busy_then_says_what_happens_next(page: Page, live_server, celery_worker, demo, shots):
    shot = shots("feedback")
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    dialog = open_origin_host_dialog(page)
    dialog.get_by_role("textbox", name="Custom origin host").fill("origin.example.com")

    # The save is held on its way, to look at the dialog meanwhile.
    held: list[Route] = []
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.route("**/origin-fetch/origin-host/edit/", lambda route: held.append(route))
    ok = dialog.get_by_role("button", name="OK")
    ok.click()
    busy = dialog.get_by_role("button", name="Saving…")
    expect(busy).to_be_disabled()
    expect(busy).to_have_attribute("aria-busy", "true")
    shot("busy")
    dialog.get_by_role("textbox", name="Custom origin host").press(
        "Enter"
    )  # a second submit while busy is dropped
    page.wait_for_timeout(500)  # time for a second request to start, were it not dropped
    assert len(held) == 1
    held[0].continue_()

    expect(dialog).to_have_count(0)
    notice = page.locator("#notice-root")
    expect(notice).to_contain_text("Saved. Deploying to 3 edge nodes…")
    shot("saved")
    expect(page.locator("#origin-host")).to_contain_text("origin.example.com")
    assert len(posts) == 1
    expect(page.locator("#domain-status")).to_contain_text("3 of 3 edge nodes", timeout=15_000)


def test_the_notice_speaks_chinese_in_the_chinese_console(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    page.get_by_role("banner").get_by_role("button", name="简体中文").click()
    page.locator("#origin-host-modify").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("input[name=host_type][value=custom]").check()
    dialog.locator("input[name=host]").fill("origin.example.com")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#notice-root")).to_contain_text("已保存。正在下发到 3 个边缘节点…")


def test_progress_stays_across_a_reload_and_the_details_stay_open_while_polling(
    page: Page, live_server, celery_worker, demo
):
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    slow = demo[2].process
    assert slow is not None
    slow.send_signal(signal.SIGSTOP)  # one edge node hangs: the change lags there
    try:
        dialog = open_origin_host_dialog(page)
        dialog.get_by_role("textbox", name="Custom origin host").fill("origin.example.com")
        dialog.get_by_role("button", name="OK").click()
        status = page.locator("#domain-status")
        expect(status).to_contain_text("2 of 3 edge nodes", timeout=15_000)

        page.reload()
        expect(status).to_contain_text("2 of 3 edge nodes")
        status.get_by_text("2 of 3 edge nodes").click()  # open the per-node details
        expect(status.get_by_role("row").filter(has_text="edge-3")).to_contain_text("Pending")

        for _poll in range(3):  # the line polls itself (and replaces itself) three times
            with page.expect_response(lambda response: "/status/" in response.url):
                pass
        expect(status.locator("details.delivery")).to_have_attribute("open", "")
        expect(status.get_by_role("row").filter(has_text="edge-1")).to_be_visible()

        page.reload()  # as the reader left it, also after a reload
        expect(status.get_by_role("row").filter(has_text="edge-1")).to_be_visible()
    finally:
        slow.send_signal(signal.SIGCONT)
    expect(status).to_contain_text("3 of 3 edge nodes", timeout=15_000)


def test_a_failed_node_reads_in_words_and_retry_delivers_once_it_is_back(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("retry")
    log_on(page, live_server.url)
    page.goto(live_server.url + TAB)
    down = demo[2]
    down.stop()
    try:
        dialog = open_origin_host_dialog(page)
        dialog.get_by_role("textbox", name="Custom origin host").fill("origin.example.com")
        dialog.get_by_role("button", name="OK").click()
        status = page.locator("#domain-status")
        row = status.get_by_role("row").filter(has_text="edge-3")
        expect(row).to_contain_text("Failed", timeout=30_000)
        expect(row).to_contain_text("The edge node could not be reached.")
        technical = row.locator(".failure-detail code")
        expect(technical).to_be_hidden()
        row.get_by_text("Technical detail").click()
        expect(technical).to_contain_text("Agent unreachable")
        shot("failed")
    finally:
        down.start()
    row.get_by_role("button", name="Retry edge node edge-3").click()
    expect(page.locator("#notice-root")).to_contain_text("edge-3")
    expect(row).to_contain_text("Applied", timeout=15_000)
    expect(status).to_contain_text("3 of 3 edge nodes")
    shot("delivered")
    revision = Domain.objects.get(name="www.example.com").config_revision
    wait_for(
        lambda: (h := down.held("www.example.com")) and h["revision"] == revision,
        what="edge-3 holds the latest revision",
    )
