"""Every console page in Simplified Chinese: after the switch, no English UI label is left in the main
content, only what stays English in the vendor's Chinese console too (domain names, CNAMEs, IPs, product
names, AccessKey, SNI, HTTPS, HOST...)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the vendor's Chinese console leaves in Latin letters: product and protocol names, the API's own words,
# the values of an origin's per-origin SNI, the demo's user names and A to Z of the sort order.
KEPT = re.compile(
    r"""
      [\w*-]+(?:\.[\w-]+)+            # domain names, CNAMEs, IPv4 addresses
    | \b[0-9a-f:]*:[0-9a-f:]+\b       # IPv6 addresses
    | \bLTAI\w+                       # AccessKey IDs
    | \bali_follow_(?:origin|host)\b
    | \b(?:D?CDN|AccessKey|ID|Secret|SNI|HTTPS?|HOST|Host|CNAME|OSS|Bucket|IP|IPv[46]|REST|API|OpenAPI
          |Agent|ETag|demo|viewer|A|Z|UTC)\b  # UTC: the time zone shown with times
    """,
    re.VERBOSE | re.ASCII,  # ASCII word boundaries: "OSS域名" keeps "OSS" a word of its own
)


def english_left(text: str) -> list[str]:
    """The Latin words of `text` once every word that stays English in the Chinese console is taken out."""
    return re.findall(r"[A-Za-z]{2,}", KEPT.sub(" ", text))


def assert_chinese(area: Locator, absent: list[str]) -> None:
    """No label of `absent`, and no other English word, in the visible text of `area`."""
    text = area.inner_text()
    for data in area.locator("ul.diff .mono, ul.diff del, ul.diff ins").all():
        # A revision's diff names the config document's own keys (origin_sni.name), and both diffs show the
        # values that changed: data, not labels. An operation's field labels are labels, and are checked.
        text = text.replace(data.inner_text(), " ")
    for label in absent:
        assert label not in text, f"{label!r} is still English on {area.page.url}"
    assert english_left(text) == [], area.page.url


def test_every_page_speaks_chinese(page: Page, live_server, celery_worker, demo, shots):
    shot = shots("zh-pages")
    log_on(page, live_server.url)
    page.get_by_role("banner").get_by_role("form", name="Language").get_by_role(
        "button", name="简体中文"
    ).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.get_by_role("navigation", name="控制台")
    main = page.get_by_role("main")

    nav.get_by_role("link", name="域名管理").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("域名管理")
    for option in ("精确匹配", "模糊匹配", "前缀匹配", "后缀匹配"):
        expect(page.get_by_label("匹配方式").locator("option", has_text=option)).to_have_count(1)
    https = page.get_by_role("row").filter(has_text="www.example.com").locator("td.https")
    expect(https).to_have_text(re.compile("^(已开启|未开启)$"))
    assert_chinese(
        main,
        [
            "Add Domain Name",
            "Search",
            "Actions",
            "Status",
            "Manage",
            "Match",
            "Sort by",
            "Enabled",
            "Created",
        ],
    )
    shot("domain-names")

    page.get_by_role("link", name="添加域名").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("添加域名")
    expect(page.get_by_label("域名", exact=True)).to_be_visible()
    assert_chinese(
        main,
        [
            "Add Domain Name",
            "Domain name",
            "Business type",
            "Acceleration region",
            "Origin",
            "Submit",
            "Cancel",
        ],
    )
    shot("add-domain-name")

    nav.get_by_role("link", name="域名管理").first.click()
    page.get_by_role("row").filter(has_text="www.example.com").get_by_role("link", name="管理").click()
    expect(page.get_by_role("heading", name="基本信息")).to_be_visible()
    assert_chinese(
        main,
        [
            "Basic Information",
            "Origin information",
            "Add origin",
            "Modify",
            "Remove",
            "Disable",
            "Delete",
            "Status",
        ],
    )
    shot("basic-information")
    page.locator("#info-section").get_by_role("button", name="删除").click()
    confirm = page.get_by_role("alertdialog", name="删除域名")
    expect(confirm).to_contain_text("确定删除 www.example.com 吗？")
    expect(confirm.get_by_label("输入域名以确认")).to_be_visible()
    assert_chinese(confirm, ["Delete", "Cancel", "Enter the domain name", "to confirm", "cannot be undone"])
    shot("confirm-delete")
    confirm.get_by_role("button", name="取消").click()
    expect(confirm).to_be_hidden()
    page.locator("#info-section").get_by_role("button", name="停用").click()  # a change for the log to show
    confirm = page.get_by_role("alertdialog", name="停用域名")
    confirm.get_by_role("button", name="停用").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#domain-info-status")).to_have_text("已停用")

    nav.get_by_role("link", name="操作日志").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("操作日志")
    disabled = page.get_by_role("row").filter(has_text="www.example.com").first
    expect(disabled).to_contain_text("停用域名")
    expect(disabled.locator(".diff li")).to_have_text(["状态: 正常运行 → 已停用"])
    assert_chinese(main, ["Operation Log", "Search", "Reset", "User", "Source", "Operation", "All sources"])
    shot("operation-log")

    nav.get_by_role("link", name="AccessKey").click()
    expect(page.get_by_role("heading", name="AccessKey")).to_be_visible()
    expect(page.locator("#access-key-table")).to_contain_text("您还没有 AccessKey。")
    page.get_by_role("button", name="创建 AccessKey").click()
    created = page.get_by_role("dialog", name="AccessKey 已创建")
    expect(created).to_contain_text("请立即复制 AccessKey Secret：它不会再次显示。")
    assert_chinese(created, ["Create AccessKey", "Copy", "I have saved the secret", "Status"])
    shot("access-key-created")
    created.get_by_role("button", name="我已保存 Secret").click()
    expect(created).to_be_hidden()
    expect(page.locator("#access-key-table")).to_contain_text("已启用")
    assert_chinese(main, ["Enabled", "Disable", "Delete", "Last Used", "Never"])

    nav.get_by_role("link", name="成员管理").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("成员管理")
    assert_chinese(main, ["Team", "Role", "Member since", "Owner", "Change role", "Add user", "Remove"])
    shot("team")
