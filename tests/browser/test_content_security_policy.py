"""The Content-Security-Policy holds on every page and dialog: Chromium, enforcing the console's policy (no
inline script, style or handler), reports no violation anywhere a user or an operator goes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, from its first script on (an init script runs before the page's own).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
        + `at ${event.sourceFile}:${event.lineNumber}`);
});
"""
CONSOLE_PAGES = [
    "/cdn/domains/",
    "/dcdn/domains/",
    "/cdn/domains/add/",
    "/dcdn/domains/add/",
    "/cdn/domains/www.example.com/",
    "/cdn/domains/www.example.com/origin-fetch/",
    "/cdn/domains/www.example.com/history/",
    "/cdn/domains/www.example.com/operations/",
    "/dcdn/domains/dynamic.example.com/",
    "/dcdn/domains/dynamic.example.com/origin-fetch/",
    "/operations/",
    "/access-keys/",
    "/team/",
    "/api/v1/docs/",
    "/no-such-page/",
]


class Violations:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH)
        page.on(
            "console",
            lambda message: (
                self.console.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

    def of(self, where: str) -> list[str]:
        found = self.page.evaluate("() => window.__violations.splice(0)") + self.console
        self.console.clear()
        return [f"{where}: {line}" for line in found]


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)
    page.wait_for_load_state("networkidle")


def open_every_dialog(page: Page, violations: Violations, where: str, opened: list[str]) -> list[str]:
    """Open each dialog the page offers (its buttons and links that load one), one after the other."""
    found: list[str] = []
    # (Batch buttons are disabled until a row is checked.)
    openers = page.locator("[hx-get][hx-target='#dialog-root']:visible:not([disabled])")
    for index in range(openers.count()):
        opener = openers.nth(index)
        label = opener.get_attribute("hx-get")
        opener.click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_be_visible()
        page.wait_for_load_state("networkidle")
        found += violations.of(f"{where} dialog {label}")
        opened.append(str(label))
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    return found


def test_no_page_or_dialog_violates_the_policy(page: Page, live_server, celery_worker, demo):
    violations = Violations(page)
    base = live_server.url
    visit(page, f"{base}/login/")
    found = violations.of("log-on page")
    log_on(page, base)
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    opened: list[str] = []
    for path in CONSOLE_PAGES:
        visit(page, base + path)
        found += violations.of(path)
        found += open_every_dialog(page, violations, path, opened)
    for dialog in ("/origins/add/", "/disable/", "/delete/", "/origin-sni/", "/team/add/", "/delete/"):
        assert any(dialog in url for url in opened), (dialog, opened)

    # The verification panel of Add Domain Name, and an AccessKey with its secret shown once.
    visit(page, f"{base}/cdn/domains/add/")
    page.get_by_role("textbox", name="Domain name").fill("www.new-root.example")
    page.get_by_label("Origin address of origin 1").fill("198.51.100.7")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Verify domain ownership")).to_be_visible()
    found += violations.of("verification panel")
    visit(page, f"{base}/access-keys/")
    page.get_by_role("button", name="Create AccessKey").click()
    expect(page.locator("dialog[open]")).to_be_visible()
    page.locator("dialog[open]").get_by_role("button", name="Copy").click()
    found += violations.of("a new AccessKey")
    assert found == []


def test_no_admin_page_violates_the_policy(page: Page, live_server, celery_worker, demo):
    get_user_model().objects.create_superuser("operator", password="operator-password-2026")
    violations = Violations(page)
    base = live_server.url
    visit(page, f"{base}/admin/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("operator-password-2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    found = violations.of("admin log-on")
    for path in [
        "/admin/",
        "/admin/edge/edgenode/",
        "/admin/edge/edgenode/add/",
        "/admin/edge/edgenode/1/change/",
        "/admin/domains/domain/",
        "/admin/domains/verifiedroot/",
        "/admin/domains/verifiedroot/add/",
        "/admin/accounts/membership/",
        "/admin/accounts/operationlog/",
        "/admin/alibaba_api/accesskey/",
        "/admin/api/apitoken/",
    ]:
        visit(page, base + path)
        found += violations.of(path)
    assert found == []
