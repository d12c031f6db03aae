"""The Origin SNI journey in Simplified Chinese: the header's language switch, then the Chinese labels."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from domains.models import Domain, OriginFetchSettings
from edge.models import ConfigRevision
from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_switches_to_chinese_and_configures_origin_sni(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("zh")
    log_on(page, live_server.url)
    language = page.get_by_role("banner").get_by_role("form", name="Language")
    language.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("banner").get_by_role("button", name="简体中文")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    page.get_by_role("navigation", name="控制台").get_by_role("link", name="域名管理").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("域名管理")
    expect(page.get_by_role("columnheader", name="操作")).to_be_visible()
    expect(page.get_by_role("columnheader", name="创建时间")).to_be_visible()
    shot("domain-names")
    page.get_by_role("row").filter(has_text="www.example.com").get_by_role("link", name="管理").click()
    page.get_by_role("link", name="回源配置", exact=True).click()
    section = page.locator("#origin-sni-section")
    expect(section.get_by_role("heading", name="回源SNI")).to_be_visible()
    expect(section.locator("#origin-sni-state")).to_have_text("未开启")
    shot("back-to-origin")
    section.get_by_role("button", name="修改配置", exact=True).click()

    dialog = page.get_by_role("dialog", name="回源SNI")
    expect(dialog).to_contain_text("SNI 仅支持具体域名，不支持泛域名。")
    dialog.get_by_role("switch", name="回源SNI").check()
    dialog.get_by_label("SNI", exact=True).fill("*.example.com")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog.get_by_role("alert")).to_contain_text("不支持泛域名")
    expect(dialog).to_be_visible()
    shot("wildcard-refused")
    assert OriginFetchSettings.objects.get(domain__name="www.example.com").sni_enabled is False
    assert ConfigRevision.objects.filter(domain__name="www.example.com").count() == 1

    dialog.get_by_label("SNI", exact=True).fill("origin-a.example.net")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden()
    expect(section.locator("#origin-sni-name")).to_have_text("origin-a.example.net")
    expect(section.locator("#origin-sni-state")).to_have_text("已开启")
    status = page.locator("#domain-status")
    expect(status).to_contain_text("3 / 3 个边缘节点", timeout=15_000)
    expect(status.locator(".badge").first).to_have_text("正常运行")
    shot("applied")

    revision = Domain.objects.get(name="www.example.com").config_revision
    for agent in demo:
        held = agent.held("www.example.com")
        assert held["revision"] == revision
        assert held["origin_sni"] == {"enabled": True, "name": "origin-a.example.net"}

    page.reload()  # the choice is kept: the page comes back in Chinese
    expect(page.get_by_role("link", name="回源配置", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("banner").get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Back-to-origin", exact=True)).to_be_visible()
    expect(page.locator("#origin-sni-state")).to_have_text("Enabled")


def test_the_log_on_page_switches_language_and_the_header_keeps_an_htmx_filtered_list(
    page: Page, live_server, celery_worker, demo
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_label("用户名").fill("demo")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的用户名和密码")
    page.get_by_label("密码").fill(os.environ["DEMO_PASSWORD"])
    page.get_by_role("button", name="登录").click()

    page.get_by_role("navigation", name="控制台").get_by_role("link", name="域名管理").first.click()
    page.get_by_label("状态").select_option("online")  # htmx swaps the table and pushes the filtered URL
    expect(page).to_have_url(re.compile(r"status=online"))
    page.get_by_role("banner").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/cdn/domains/\?.*status=online"))
    expect(page.get_by_label("Status")).to_have_value("online")
