"""Every page and dialog at phone width (390 × 844) and desktop width (1440 × 900), in English and Chinese:
nothing makes the page wider than the window, no text box is narrower than 8 characters, and axe-core finds
no serious or critical violation. At phone width the side menu folds behind the Menu button."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.audit import ChangeContext
from domains.models import Domain
from origin_fetch.services import origin_host_update
from tests.browser.conftest import Shots
from tests.browser.test_accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1440, "height": 900}
PAGES = [
    ("domain-names", "/cdn/domains/"),
    ("dcdn-domain-names", "/dcdn/domains/"),
    ("add-domain-name", "/cdn/domains/add/"),
    ("basic-information", "/cdn/domains/www.example.com/"),
    ("back-to-origin", "/cdn/domains/www.example.com/origin-fetch/"),
    ("change-history", "/cdn/domains/www.example.com/history/"),
    ("domain-operation-log", "/cdn/domains/www.example.com/operations/"),
    ("dcdn-basic-information", "/dcdn/domains/dynamic.example.com/"),
    ("origin-fetch", "/dcdn/domains/dynamic.example.com/origin-fetch/"),
    ("operation-log", "/operations/"),
    ("access-keys", "/access-keys/"),
    ("team", "/team/"),
    ("not-found", "/no-such-page/"),
]

# The phone screenshots kept in docs/screenshots (CONSOLE_SCREENSHOTS): the journey's pages and one dialog.
SHOT_PAGES = {"domain-names", "basic-information", "back-to-origin", "change-history", "team", "not-found"}

# How far the page reaches past the window, and each visible text box narrower than 8 characters of its font.
MEASURE = """() => {
  const canvas = document.createElement("canvas").getContext("2d");
  const boxes = document.querySelectorAll(
    "input:not([type]), input[type=text], input[type=search], input[type=password], input[type=number], " +
    "input[type=email], input[type=url], textarea");
  const narrow = [];
  for (const box of boxes) {
    if (box.getClientRects().length === 0 || getComputedStyle(box).visibility === "hidden") continue;
    const style = getComputedStyle(box);
    canvas.font = style.font;
    const content = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (content < canvas.measureText("00000000").width) {
      narrow.push(`${box.id || box.name} is ${Math.round(content)}px`);
    }
  }
  const root = document.documentElement;
  const width = root.clientWidth;
  // What reaches past the window's right edge outside any box that scrolls or clips: what to fix.
  const clipped = (element) => {
    for (let up = element.parentElement; up; up = up.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")]
    .filter((element) => element.getBoundingClientRect().right > width + 1 && !clipped(element))
    .slice(0, 3).map((element) => `${element.tagName.toLowerCase()}#${element.id}.${element.className}`);
  return {overflow: Math.max(root.scrollWidth, document.body.scrollWidth) - width, narrow, wide};
}"""


def problems(page: Page, where: str, axe) -> list[str]:
    page.wait_for_load_state()
    found = page.evaluate(MEASURE)
    lines = []
    if found["overflow"] > 0:
        lines.append(f"{where}: the page is {found['overflow']}px wider than the window, at {found['wide']}")
    lines += [f"{where}: text box {box} wide, under 8 characters" for box in found["narrow"]]
    if axe is not None:
        lines += [f"{where}: {line}" for line in serious_violations(page, axe)]
    return lines


def dialog_openers(page: Page) -> list[str]:
    """The hx-get of each kind of dialog the page opens (one of a kind: the first origin's, member's…)."""
    urls = page.eval_on_selector_all(
        "[hx-get][hx-target='#dialog-root']", "buttons => buttons.map(b => b.getAttribute('hx-get'))"
    )
    kinds: dict[str, str] = {}
    for url in urls:
        kinds.setdefault(re.sub(r"/\d+/", "/n/", url), url)
    return list(kinds.values())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_and_dialog_fits_the_window(page: Page, live_server, celery_worker, demo, size, language):
    from tests.browser.test_accessibility import AXE

    axe = AXE if AXE.exists() else None
    # A second revision of www.example.com, so that its history offers Roll back (and its confirmation).
    origin_host_update(
        domain=Domain.objects.get(name="www.example.com"),
        host="origin.example.com",
        context=ChangeContext.system(),
    )
    page.set_viewport_size(size)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    phone = size is PHONE
    shot = Shots(page, ("zh-phone" if language != "en" else "phone") if phone else "unused")
    if not phone:
        shot = lambda step: None  # noqa: E731 - the desktop screenshots are the journeys'

    page.goto(f"{live_server.url}/login/")
    found = problems(page, "log-on", axe)
    shot("log-on")
    page.locator("#id_username").fill("demo")
    page.locator("#id_password").fill(os.environ["DEMO_PASSWORD"])
    page.locator(".login-card button[type=submit]").click()
    expect(page.locator("#domain-table, .content").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)

    for name, path in PAGES:
        page.goto(live_server.url + path)
        found += problems(page, name, axe)
        if name in SHOT_PAGES:
            shot(name)
        for url in dialog_openers(page):
            opener = page.locator(f"[hx-get='{url}']").first
            if opener.is_disabled():  # a batch action: it acts on the rows ticked
                page.locator("#domain-table input[type=checkbox][name=name]").first.check()
            opener.click()
            dialog = page.locator("dialog[open]")
            expect(dialog).to_be_visible()
            found += problems(page, f"{name}, dialog {url}", axe)
            if "origin-sni/edit" in url:
                shot(f"{name}-dialog")
            page.keyboard.press("Escape")
            expect(dialog).to_have_count(0)
        for rollback in page.locator("form[data-confirm] button[type=submit]").all()[:1]:
            rollback.click()
            expect(page.locator("dialog[open]")).to_be_visible()
            found += problems(page, f"{name}, Roll back's confirmation", axe)
            shot(f"{name}-confirm")
            page.keyboard.press("Escape")
            expect(page.locator("dialog[open]")).to_have_count(0)

    # The API documentation (the Swagger UI's own page, linked from the side menu) fits too; axe-core's
    # findings there are the Swagger UI's, not the console's.
    page.goto(f"{live_server.url}/cdn/domains/")
    if phone:
        page.locator("#menu-button").click()
    page.locator("#sidenav").get_by_role("link", name=re.compile("API documentation|API 文档")).click()
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    found += problems(page, "API documentation", None)

    # At phone width the side menu is behind the Menu button, which opens and closes it.
    page.goto(f"{live_server.url}/cdn/domains/")
    menu = page.locator("#menu-button")
    nav = page.get_by_role("navigation", name=re.compile("Console|控制台"))
    if phone:
        expect(nav).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(nav).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")
        found += problems(page, "menu open", axe)
        shot("menu")
        menu.click()
        expect(nav).to_be_hidden()
        menu.click()
        nav.get_by_role("link").first.focus()
        page.keyboard.press("Escape")  # Escape folds it away, focus back on the button
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()
    else:
        expect(menu).to_be_hidden()
        expect(nav).to_be_visible()
    assert found == [], "\n".join(found)
