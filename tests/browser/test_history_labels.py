"""The change history of a domain with several origins reads in field and choice labels, grouped by origin,
with its summaries in the reader's language: English, then Simplified Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.audit import ChangeContext
from accounts.models import Role
from domains.models import OriginType
from domains.origin_services import OriginInput, origin_update
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.browser.test_domain_list_and_add import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOMAIN = "multi.alpha.example"


@pytest.fixture
def history(transactional_db):
    """Three revisions: Origin SNI on; the second origin's SNI follows its address; the first is a backup."""
    alpha = factories.make_account("alpha")
    alice = factories.make_user("alice", account=alpha, role=Role.OWNER)
    domain = factories.make_domain(
        account=alpha,
        name=DOMAIN,
        origins=[
            (OriginType.IPADDR, "203.0.113.10", 443),
            (OriginType.DOMAIN, "origin-b.alpha.example", 443),
        ],
    )
    context = ChangeContext(user=alice)
    origin_sni_update(domain=domain, enabled=True, name=DOMAIN, context=context)
    first, second = domain.origins.order_by("address")
    origin_sni_host_update(origin=second, sni_host="ali_follow_origin", context=context)
    origin_update(
        origin=first, changes=OriginInput("ipaddr", "203.0.113.10", 443, priority=30), context=context
    )
    return domain


def test_the_history_reads_in_labels_in_english_and_chinese(page: Page, live_server, history):
    log_on(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/cdn/domains/{DOMAIN}/history/")
    table = page.locator("#revision-history")
    third, second = table.locator("#revision-3"), table.locator("#revision-2")
    expect(third).to_contain_text("Origin 203.0.113.10 modified")
    expect(third.locator(".history-group")).to_have_text(["Origin 203.0.113.10"])
    expect(third.locator("ul.diff li")).to_have_text(["Priority: Primary → Backup"])
    expect(second.locator(".history-group")).to_have_text(["Origin origin-b.alpha.example"])
    expect(second.locator("ul.diff li")).to_have_text(
        [
            f"Effective SNI: {DOMAIN} → origin-b.alpha.example",
            "Why this SNI: Origin SNI of the domain → Follows the origin address",
        ]
    )
    first = table.locator("#revision-1")
    expect(first).to_contain_text(f"Origin SNI on: {DOMAIN}")
    expect(first.locator(".history-group")).to_have_text(
        ["Domain", "Origin 203.0.113.10 (added)", "Origin origin-b.alpha.example (added)"]
    )
    expect(first).to_contain_text("Origin SNI: — → on")
    expect(table).not_to_contain_text("sni_source")
    expect(table).to_contain_text("UTC")

    page.get_by_role("banner").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    table = page.locator("#revision-history")
    third, second = table.locator("#revision-3"), table.locator("#revision-2")
    expect(third).to_contain_text("修改源站 203.0.113.10")
    expect(third.locator(".history-group")).to_have_text(["源站 203.0.113.10"])
    expect(third.locator("ul.diff li")).to_have_text(["优先级: 主 → 备"])
    expect(second.locator("ul.diff li").nth(1)).to_have_text("SNI 来源: 域名的回源SNI → 跟随源站地址")
    expect(table.locator("#revision-1")).to_contain_text(f"回源SNI 开启：{DOMAIN}")
    expect(table.locator("#revision-1 .history-group")).to_have_text(
        ["域名", "源站 203.0.113.10（新增）", "源站 origin-b.alpha.example（新增）"]
    )
    for english in ("Origin", "Priority", "Why this SNI", "Primary", "modified", "Domain"):
        expect(table).not_to_contain_text(english)


def test_at_phone_width_each_revision_reads_as_a_card_with_its_change_in_view(
    page: Page, live_server, history
):
    page.set_viewport_size({"width": 390, "height": 844})
    log_on(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/cdn/domains/{DOMAIN}/history/")
    row = page.locator("#revision-3")
    change = row.locator("td[data-label='Change']")
    expect(change).to_contain_text("Priority: Primary → Backup")
    box = change.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, "the change is in view"
    # Each cell says which column it is; the column headers stay for screen readers.
    label = change.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Change"'
    expect(page.locator("#revision-history").get_by_role("columnheader", name="Change")).to_have_count(1)
    # The current revision offers no Roll back, and shows no empty Actions line; the older ones do.
    expect(row.locator("td[data-label='Actions']")).to_be_hidden()
    expect(page.get_by_role("button", name="Roll back to revision 2")).to_be_visible()
