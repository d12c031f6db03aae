"""Reading writes nothing: every page, tab, section and dialog, and every REST read, for a domain that never
had back-to-origin settings saved, runs no INSERT, UPDATE or DELETE (the defaults are shown, not stored)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from accounts.models import Role
from alibaba_api.services import access_key_create
from domains.models import OriginFetchSettings, OriginType
from domains.services import domain_disable
from tests import factories

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def bare_domain(alpha, alice):
    """A domain with two origins, disabled (its first revision), and no settings row."""
    domain = factories.make_domain(
        account=alpha,
        name="bare.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "origin.alpha.example", 443)],
    )
    OriginFetchSettings.objects.filter(domain=domain).delete()
    domain_disable(domain=domain, context=ChangeContext(user=alice))
    domain.refresh_from_db()
    assert not OriginFetchSettings.objects.filter(domain=domain).exists()
    return domain


def _page_urls(domain, origin_ids, member_id, key_id) -> list[str]:
    pane = {"product": domain.product, "name": domain.name}
    urls = [
        reverse("home"),
        reverse("domains:list", kwargs={"product": "cdn"}),
        reverse("domains:list", kwargs={"product": "cdn"}) + "?q=bare&match=prefix&status=offline",
        reverse("domains:add", kwargs={"product": "cdn"}),
        reverse("domains:batch", kwargs={"product": "cdn", "action": "delete"}) + f"?name={domain.name}",
        reverse("domains:cname_hints", kwargs={"product": "cdn"}) + f"?id={domain.pk}",
        reverse("origin_fetch:copy_config", kwargs={"product": domain.product, "name": domain.name}),
        reverse("operation_log"),
        reverse("access_keys"),
        reverse("access_key_delete", kwargs={"access_key_id": key_id}),
        reverse("team"),
        reverse("member_add"),
        reverse("member_role", kwargs={"member_id": member_id}),
        reverse("member_remove", kwargs={"member_id": member_id}),
    ]
    for name in (
        "basic",
        "status",
        "operations",
        "info_section",
        "origins_section",
        "origin_add",
        "disable",
        "enable",
        "delete",
    ):
        urls.append(reverse(f"domains:{name}", kwargs=pane))
    for name in ("tab", "origin_sni_section", "origin_sni_dialog", "history"):
        urls.append(reverse(f"origin_fetch:{name}", kwargs=pane))
    for section in ("protocol", "origin-host", "verification"):
        urls.append(reverse("origin_fetch:section", kwargs=pane | {"section": section}))
        urls.append(reverse("origin_fetch:dialog", kwargs=pane | {"section": section}))
    for origin_id in origin_ids:
        urls.append(reverse("domains:origin_edit", kwargs=pane | {"origin_id": origin_id}))
        urls.append(reverse("domains:origin_remove", kwargs=pane | {"origin_id": origin_id}))
        urls.append(reverse("origin_fetch:origin_sni_host_dialog", kwargs=pane | {"origin_id": origin_id}))
    return urls


def _api_urls(domain, origin_ids) -> list[str]:
    base = f"/api/v1/domains/{domain.name}/"
    urls = ["/api/v1/domains/", base, base + "deployments/", base + "origins/", base + "revisions/"]
    urls += [base + "revisions/1/", "/api/v1/operations/"]
    urls += [base + "origin-fetch/" + section for section in ("", "origin-sni/", "protocol/")]
    urls += [base + "origin-fetch/" + section for section in ("origin-host/", "verification/")]
    for origin_id in origin_ids:
        urls += [f"{base}origins/{origin_id}/", f"{base}origins/{origin_id}/sni/"]
    return urls


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_no_page_tab_section_or_dialog_writes_anything(client, alice, bob, bare_domain):
    key = access_key_create(user=alice, context=ChangeContext(user=alice))
    member = alice.membership.account.memberships.get(user=bob)
    origin_ids = list(bare_domain.origins.values_list("pk", flat=True))
    client.force_login(alice)
    for url in _page_urls(bare_domain, origin_ids, member.pk, key.access_key.access_key_id):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code in (200, 302), url
        assert _writes(queries) == [], url
    assert not OriginFetchSettings.objects.filter(domain=bare_domain).exists()


def test_no_rest_read_writes_anything(alice, bare_domain):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_token(alice)}")
    origin_ids = list(bare_domain.origins.values_list("pk", flat=True))
    for url in _api_urls(bare_domain, origin_ids):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        assert _writes(queries) == [], url
    assert not OriginFetchSettings.objects.filter(domain=bare_domain).exists()


def test_a_viewer_reading_writes_nothing_either(client, bob, bare_domain):
    client.force_login(bob)
    pane = {"product": bare_domain.product, "name": bare_domain.name}
    for url in (
        reverse("origin_fetch:tab", kwargs=pane),
        reverse("origin_fetch:origin_sni_dialog", kwargs=pane),
        reverse("domains:basic", kwargs=pane),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert _writes(queries) == [], url
    assert bob.membership.role == Role.VIEWER
