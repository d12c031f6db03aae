"""Tags on the Basic Information tab, in Chromium: a customer adds tags, meets a rule, removes one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domains.models import Domain, DomainTag
from tests.browser.test_accessibility import axe, serious_violations  # noqa: F401 - axe is a fixture
from tests.browser.test_domain_pane import open_pane
from tests.browser.test_origin_sni_journey import log_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tags_of(name: str) -> dict[str, str]:
    return dict(DomainTag.objects.filter(domain=Domain.objects.get(name=name)).values_list("key", "value"))


def test_a_customer_tags_a_domain(page: Page, live_server, demo, shots, axe):  # noqa: F811
    shot = shots("tags")
    domain = "www.example.com"
    log_on(page, live_server.url)
    open_pane(page, domain)
    section = page.locator("#tags-section")
    expect(section).to_contain_text("No tags.")

    section.get_by_role("button", name="Edit tags").click()
    dialog = page.get_by_role("dialog", name="Edit tags")
    assert serious_violations(page, axe) == [], "Edit tags dialog"
    dialog.get_by_label("Key of tag 1").fill("env")
    dialog.get_by_label("Value of tag 1").fill("prod")
    dialog.get_by_role("button", name="Add tag").click()
    dialog.get_by_label("Key of tag 2").fill("aliyun-team")
    dialog.get_by_label("Value of tag 2").fill("edge")
    dialog.get_by_role("button", name="OK").click()
    # The reserved prefix is refused next to its field, and what was typed stays.
    expect(dialog.locator("#id_tag-1-key_error")).to_contain_text("starts with aliyun or acs:")
    expect(dialog.get_by_label("Key of tag 1")).to_have_value("env")
    assert serious_violations(page, axe) == [], "Edit tags dialog with an error"
    shot("reserved-key")
    dialog.get_by_label("Key of tag 2").fill("team")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(section.get_by_role("row").filter(has_text="team")).to_contain_text("edge")
    shot("tagged")
    assert tags_of(domain) == {"env": "prod", "team": "edge"}

    # Emptying a row removes its tag.
    section.get_by_role("button", name="Edit tags").click()
    dialog = page.get_by_role("dialog", name="Edit tags")
    dialog.get_by_label("Key of tag 1").fill("")
    dialog.get_by_label("Value of tag 1").fill("")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(section.get_by_role("row").filter(has_text="env")).to_have_count(0)
    assert tags_of(domain) == {"team": "edge"}
