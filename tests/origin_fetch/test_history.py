"""Revision history with readable diffs, and rollback to an earlier revision."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import OriginFetchSettings
from domains.origin_services import OriginInput, origin_add, origin_remove, origin_update
from origin_fetch.history import RollbackError, document_diff, domain_rollback
from origin_fetch.origin_sni_host import origin_sni_host_update
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
    url = reverse("origin_fetch:history", kwargs={"product": "cdn", "name": cdn_domain.name})
    rollback = reverse(
        "origin_fetch:rollback", kwargs={"product": "cdn", "name": cdn_domain.name, "number": 1}
    )

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


def test_rollback_keeps_the_identity_of_origins_that_still_exist(cdn_domain, alice):
    context = ChangeContext(user=alice)
    kept = cdn_domain.origins.get()
    origin_add(
        domain=cdn_domain, origin=OriginInput("domain", "b.alpha.example", 443, 30, 20), context=context
    )
    removed_later = cdn_domain.origins.get(address="b.alpha.example")
    origin_sni_host_update(origin=removed_later, sni_host="ali_follow_origin", context=context)
    snapshot_revision = cdn_domain.revisions.order_by("-number").first().number

    origin_update(origin=kept, changes=OriginInput("ipaddr", "203.0.113.10", 443, 20, 55), context=context)
    origin_remove(origin=removed_later, context=context)
    origin_add(domain=cdn_domain, origin=OriginInput("ipaddr", "198.51.100.7", 443), context=context)
    entries_before = OperationLog.objects.count()

    revision = domain_rollback(domain=cdn_domain, number=snapshot_revision, context=context)

    origins = {origin.address: origin for origin in cdn_domain.origins.all()}
    assert set(origins) == {"203.0.113.10", "b.alpha.example"}
    assert origins["203.0.113.10"].pk == kept.pk  # the same row, with its old values back
    assert origins["203.0.113.10"].weight == kept.weight
    assert origins["b.alpha.example"].sni_host == "ali_follow_origin"
    assert (origins["b.alpha.example"].priority, origins["b.alpha.example"].weight) == (30, 20)
    entries = OperationLog.objects.order_by("-id")
    assert OperationLog.objects.count() == entries_before + 1
    entry = entries.first()
    assert (entry.action, entry.revision, entry.after["rolled_back_to"]) == (
        "domain.rollback",
        revision.number,
        snapshot_revision,
    )
    assert [o["address"] for o in entry.before["origins"]] == ["203.0.113.10", "198.51.100.7"]
    assert sorted(o["address"] for o in entry.after["origins"]) == ["203.0.113.10", "b.alpha.example"]


def test_a_revision_that_todays_rules_refuse_is_not_restored(cdn_domain, alice):
    context = ChangeContext(user=alice)
    sni(cdn_domain, alice, "a.example.com")
    first = cdn_domain.revisions.order_by("-number").first()
    sni(cdn_domain, alice, "b.example.com")
    # A value stored before a rule existed (a wildcard SNI, which the edge cannot send).
    snapshot = first.snapshot
    snapshot["settings"]["sni_name"] = "*.example.com"
    type(first).objects.filter(pk=first.pk).update(snapshot=snapshot)
    revisions, entries = cdn_domain.revisions.count(), OperationLog.objects.count()

    with pytest.raises(RollbackError, match="Wildcard domain names are not supported"):
        domain_rollback(domain=cdn_domain, number=first.number, context=context)

    assert OriginFetchSettings.objects.get(domain=cdn_domain).sni_name == "b.example.com"
    assert (cdn_domain.revisions.count(), OperationLog.objects.count()) == (revisions, entries)


def test_an_origin_that_todays_rules_refuse_is_not_restored_and_nothing_changes(cdn_domain, alice):
    context = ChangeContext(user=alice)
    sni(cdn_domain, alice, "a.example.com")
    first = cdn_domain.revisions.order_by("-number").first()
    origin_add(domain=cdn_domain, origin=OriginInput("ipaddr", "198.51.100.7", 443), context=context)
    snapshot = first.snapshot
    snapshot["origins"][0]["port"] = 70000
    type(first).objects.filter(pk=first.pk).update(snapshot=snapshot)
    addresses = sorted(cdn_domain.origins.values_list("address", flat=True))

    with pytest.raises(RollbackError, match="cannot be restored"):
        domain_rollback(domain=cdn_domain, number=first.number, context=context)

    assert sorted(cdn_domain.origins.values_list("address", flat=True)) == addresses
