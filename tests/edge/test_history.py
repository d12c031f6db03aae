"""Revision history with readable diffs, and rollback to an earlier revision."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.audit import ChangeContext
from console.models import OperationLog
from domains.services import OriginInput, origin_add
from edge.services import document_diff, domain_rollback
from origin_fetch.models import OriginFetchSettings
from origin_fetch.services import origin_protocol_update, origin_sni_update
from tests.factories import make_node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nodes(db):
    return [make_node("edge-1", "http://127.0.0.1:9901")]


def sni(domain, user, name):
    return origin_sni_update(domain=domain, enabled=True, name=name, context=ChangeContext(user=user))


def test_rollback_restores_the_settings_and_origins_as_a_new_revision(cdn_domain, alice):
    sni(cdn_domain, alice, "a.example.com")  # r1
    sni(cdn_domain, alice, "b.example.com")  # r2
    origin_add(
        domain=cdn_domain,
        origin=OriginInput("domain", "extra.example.net", 443),
        context=ChangeContext(user=alice),
    )
    origin_protocol_update(
        domain=cdn_domain, policy="follow", http_port=80, https_port=443, context=ChangeContext(user=alice)
    )

    revision = domain_rollback(domain=cdn_domain, number=1, context=ChangeContext(user=alice))
    assert revision.number == 5 and revision.summary == "Rolled back to revision 1"
    first = cdn_domain.revisions.get(number=1).document
    assert {k: v for k, v in revision.document.items() if k != "revision"} == {
        k: v for k, v in first.items() if k != "revision"
    }
    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.sni_name, settings.forward_scheme) == ("a.example.com", "https")
    assert [o.address for o in cdn_domain.origins.all()] == ["203.0.113.10"]
    assert OperationLog.objects.filter(action="domain.rollback").get().after["rolled_back_to"] == 1
    assert domain_rollback(domain=cdn_domain, number=5, context=ChangeContext(user=alice)) is None


def test_document_diff_is_readable():
    old = {
        "revision": 1,
        "origin_sni": {"enabled": False, "name": ""},
        "origins": [{"address": "a", "sni": None}],
    }
    new = {
        "revision": 2,
        "origin_sni": {"enabled": True, "name": "x.com"},
        "origins": [{"address": "a", "sni": "x.com"}],
    }
    assert document_diff(old, new) == [
        ("origin_sni.enabled", "false", "true"),
        ("origin_sni.name", "—", "x.com"),
        ("origins[a].sni", "—", "x.com"),
    ]


def test_the_history_page_lists_changes_and_rolls_back(client, alice, bob, charlie, cdn_domain):
    sni(cdn_domain, alice, "a.example.com")
    sni(cdn_domain, alice, "b.example.com")
    url = reverse("domains:history", kwargs={"product": "cdn", "name": cdn_domain.name})
    rollback = reverse("domains:rollback", kwargs={"product": "cdn", "name": cdn_domain.name, "number": 1})

    client.force_login(alice)
    page = client.get(url).content.decode()
    assert "Origin SNI on: b.example.com" in page and "a.example.com</del> → <ins>b.example.com" in page
    assert "Roll back to revision 1" in page
    response = client.post(rollback, follow=True)
    assert "Rolled back to revision 1 as revision 3" in response.content.decode()
    assert OriginFetchSettings.objects.get(domain=cdn_domain).sni_name == "a.example.com"

    client.force_login(bob)
    assert client.get(url).status_code == 200
    assert "Roll back to revision" not in client.get(url).content.decode()
    assert client.post(rollback).status_code == 403
    client.force_login(charlie)
    assert client.get(url).status_code == 404 and client.post(rollback).status_code == 404
