"""The change history in the reader's words and language: field and choice labels, grouped by origin, and
stored summaries translated when shown (English and Simplified Chinese)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.audit import ChangeContext
from domains.models import OriginType
from domains.origin_services import OriginInput, origin_update
from origin_fetch.history_text import history_groups, summary_text
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import origin_sni_update
from tests.factories import make_domain, make_node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_after():
    """A request in Chinese leaves the thread's language so: the next tests read English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def domain(alpha, alice):
    """Two origins; Origin SNI on, then the second origin's SNI follows its address, the first is a backup."""
    make_node("edge-1", "http://127.0.0.1:9901")
    domain = make_domain(
        account=alpha,
        name="multi.alpha.example",
        origins=[
            (OriginType.IPADDR, "203.0.113.10", 443),
            (OriginType.DOMAIN, "origin-b.alpha.example", 443),
        ],
    )
    context = ChangeContext(user=alice)
    origin_sni_update(domain=domain, enabled=True, name="multi.alpha.example", context=context)
    first, second = domain.origins.order_by("address")
    origin_sni_host_update(origin=second, sni_host="ali_follow_origin", context=context)
    origin_update(
        origin=first, changes=OriginInput("ipaddr", "203.0.113.10", 443, priority=30), context=context
    )
    return domain


def _history(client, domain) -> str:
    url = reverse("origin_fetch:history", kwargs={"product": domain.product, "name": domain.name})
    return client.get(url).content.decode()


def test_the_history_reads_in_field_and_choice_labels_grouped_by_origin(client, alice, domain):
    client.force_login(alice)
    page = _history(client, domain)
    assert "Origin SNI on: multi.alpha.example" in page
    assert (
        "Origin SNI: <del>—</del> → <ins>on</ins>" in page
        and "Product: <del>—</del> → <ins>CDN</ins>" in page
    )
    assert '<p class="history-group">Origin origin-b.alpha.example (added)</p>' in page
    assert '<p class="history-group">Origin origin-b.alpha.example</p>' in page
    assert "Why this SNI: <del>Origin SNI of the domain</del> → <ins>Follows the origin address</ins>" in page
    assert '<p class="history-group">Origin 203.0.113.10</p>' in page
    assert "Priority: <del>Primary</del> → <ins>Backup</ins>" in page
    assert "sni_source" not in page and "origins[" not in page


def test_the_history_reads_in_chinese(client, alice, domain):
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = _history(client, domain)
    with translation.override("zh-hans"):
        assert summary_text("Origin SNI on: multi.alpha.example") in page
        assert summary_text("Domain added") != "Domain added"
        groups = history_groups(*[r.document for r in domain.revisions.order_by("number")][1:3])
    assert "回源SNI" in page and "源站 origin-b.alpha.example" in page
    assert "主" in page and "备" in page
    assert "Origin SNI on" not in page and "Why this SNI" not in page and "Priority" not in page
    assert [group.origin for group in groups] == ["203.0.113.10"]


def test_a_summary_the_history_does_not_know_is_shown_as_stored():
    assert summary_text("Something new") == "Something new"


@translation.override("en")
def test_a_deleted_domain_reads_as_deleted():
    (group,) = history_groups(
        {"enabled": True, "origins": [{"address": "a"}]}, {"deleted": True, "domain": "x"}
    )
    assert [(c.label, c.before, c.after) for c in group.changes] == [("Status", "Enabled", "Deleted")]
