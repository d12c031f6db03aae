"""Accessibility: axe-core finds nothing serious on the journey's pages and dialogs (CDN and DCDN, English and
Chinese), and the Origin SNI dialog works from the keyboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.test_origin_sni_journey import log_on, open_origin_sni_dialog
from tests.conftest import require

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


@pytest.fixture
def axe() -> Path:
    require(
        AXE.exists(),
        "needs axe-core from package-lock.json: run `npm ci` (or `make install`) at the repository root, "
        "with Node.js and npm installed (apt-get install nodejs npm)",
    )
    return AXE


def serious_violations(page: Page, axe: Path) -> list[str]:
    """axe-core's violations of impact serious or critical on the page as it is now, one line each."""
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's tooling, as the Content-Security-Policy refuses an inline <script>.
        page.evaluate(axe.read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_log_on_page_has_no_serious_violation(page: Page, live_server, axe, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert serious_violations(page, axe) == []


@pytest.mark.parametrize(
    "domain, product, tab",
    [("www.example.com", "cdn", "Back-to-origin"), ("dynamic.example.com", "dcdn", "Origin Fetch")],
)
def test_the_journeys_pages_and_dialog_have_no_serious_violation(
    page: Page, live_server, celery_worker, demo, axe, domain, product, tab
):
    log_on(page, live_server.url)
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Domain Names").nth(0 if product == "cdn" else 1).click()
    expect(page.get_by_role("row").filter(has_text=domain)).to_be_visible()
    assert serious_violations(page, axe) == [], "Domain Names page"

    open_origin_sni_dialog(page, domain=domain, product=product)
    dialog = page.get_by_role("dialog", name="Origin SNI")
    assert serious_violations(page, axe) == [], "Origin SNI dialog"
    dialog.get_by_role("switch", name="Origin SNI").check()
    dialog.get_by_label("SNI", exact=True).fill("*.example.com")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    assert serious_violations(page, axe) == [], "Origin SNI dialog with an error"

    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")
    assert serious_violations(page, axe) == [], f"{tab} tab"
    for modify in (
        "#protocol-modify",
        "#origin-host-modify",
        "#verification-modify",
        "[id$=-sni-modify] >> nth=0",
    ):
        button = page.locator(modify)
        button.click()
        other = page.locator("dialog[open]")
        expect(other).to_be_visible()
        assert focused_inside(page, "dialog[open]")
        assert serious_violations(page, axe) == [], f"dialog of {modify}"
        page.keyboard.press("Escape")
        expect(other).to_be_hidden()
        expect(button).to_be_focused()

    page.get_by_role("banner").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert serious_violations(page, axe) == [], f"{tab} tab in Chinese"


def focused_inside(page: Page, selector: str) -> bool:
    return page.evaluate("(s) => document.querySelector(s).contains(document.activeElement)", selector)


def test_the_origin_sni_dialog_works_from_the_keyboard(page: Page, live_server, celery_worker, demo):
    log_on(page, live_server.url)
    page.goto(f"{live_server.url}/cdn/domains/www.example.com/origin-fetch/")
    modify = page.locator("#origin-sni-section").get_by_role("button", name="Modify", exact=True)
    modify.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Origin SNI")
    expect(dialog).to_be_visible()
    switch = dialog.get_by_role("switch", name="Origin SNI")
    expect(switch).to_be_focused()
    expect(switch).not_to_be_checked()
    page.keyboard.press("Space")
    expect(switch).to_be_checked()
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()

    # Tab and Shift+Tab cycle through the switch, the SNI field, OK and Cancel, never leaving the dialog.
    stops = []
    for _ in range(9):
        page.keyboard.press("Tab")
        assert focused_inside(page, "#origin-sni-dialog")
        stops.append(page.evaluate("() => document.activeElement.textContent || document.activeElement.id"))
    assert stops[:4] == ["id_name", "OK", "Cancel", "id_enabled"]
    assert stops[4:] == stops[:4] + ["id_name"]
    switch.focus()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(modify).to_be_focused()

    # The protocol dialog starts with the policy's switch; Shift+Tab wraps to Cancel.
    page.locator("#protocol-modify").focus()
    page.keyboard.press("Enter")
    protocol = page.get_by_role("dialog", name="Origin protocol policy")
    policy_switch = protocol.get_by_role("switch", name="Origin protocol policy")
    expect(policy_switch).to_be_focused()
    expect(policy_switch).to_be_checked()
    page.keyboard.press("Shift+Tab")
    expect(protocol.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(policy_switch).to_be_focused()
    page.keyboard.press("Escape")
    expect(protocol).to_be_hidden()
    expect(page.locator("#protocol-modify")).to_be_focused()

    # In a dialog that starts with a radio group, focus starts on the checked radio and Shift+Tab wraps.
    origin_modify = page.locator("#origin-sni-section tbody button").first
    origin_modify.focus()
    page.keyboard.press("Enter")
    per_origin = page.locator("#origin-sni-host-dialog")
    default = per_origin.get_by_role("radio", name="Use the domain's Origin SNI")
    expect(default).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(per_origin.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(default).to_be_focused()
    page.keyboard.press("Escape")
    expect(per_origin).to_be_hidden()
    expect(origin_modify).to_be_focused()

    # The dialog's close event arrives a moment after it closes; focus the user has moved meanwhile stays put.
    page.locator("#protocol-modify").focus()
    page.keyboard.press("Enter")
    expect(protocol).to_be_visible()
    page.evaluate(
        """() => {
            document.querySelector("dialog[open]").close();
            document.querySelector("#origin-sni-modify").focus();
        }"""
    )
    expect(protocol).to_have_count(0)
    expect(modify).to_be_focused()

    # A save from the keyboard closes the dialog and leaves focus on Modify in the refreshed section.
    page.keyboard.press("Enter")
    expect(switch).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("origin-a.example.net")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#origin-sni-name")).to_have_text("origin-a.example.net")
    expect(
        page.locator("#origin-sni-section").get_by_role("button", name="Modify", exact=True)
    ).to_be_focused()
