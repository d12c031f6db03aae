"""The Domain Names list's row and batch actions: Disable / Enable / Delete of the checked rows through the
domain services, with their confirmation dialogs, for owners only (stranger 404, viewer 403, CSRF on)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OperationLog
from domains.models import Domain, DomainStatus
from tests.factories import make_domain

pytestmark = pytest.mark.django_db


def _batch(action: str, product: str = "cdn") -> str:
    return reverse("domains:batch", kwargs={"product": product, "action": action})


@pytest.fixture
def two(alpha):
    return [make_domain(account=alpha, name=f"{n}.alpha.example") for n in ("one", "two")]


def test_the_list_offers_row_actions_and_checkboxes_to_an_owner(client, alice, two):
    client.force_login(alice)
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    for label in ("Manage", "Copy Configuration", "Disable", "Delete", "Select one.alpha.example"):
        assert label in body
    assert 'name="name" value="two.alpha.example"' in body
    assert "/cdn/domains/one.alpha.example/copy-configuration/" in body


def test_a_viewer_sees_no_write_actions_in_the_list(client, bob, two):
    client.force_login(bob)
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    assert "Manage" in body
    assert "Copy Configuration" not in body and 'name="name"' not in body and "/delete/" not in body


def test_times_show_their_time_zone(client, alice, two):
    client.force_login(alice)
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    created = two[0].created_at.strftime("%Y-%m-%d %H:%M:%S")
    assert f"{created} UTC" in body


def test_the_batch_dialog_lists_the_checked_names(client, alice, two):
    client.force_login(alice)
    body = client.get(_batch("disable"), {"name": [d.name for d in two]}).content.decode()
    assert "Disable these 2 domain names?" in body
    assert "one.alpha.example" in body and "two.alpha.example" in body


def test_a_batch_disable_then_enable_goes_through_the_services(client, alice, two):
    client.force_login(alice)
    response = client.post(_batch("disable"), {"name": [d.name for d in two]}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and "domain-changed" in response.headers["HX-Trigger"]
    assert set(Domain.objects.values_list("status", flat=True)) == {DomainStatus.OFFLINE}
    assert OperationLog.objects.filter(action="domain.disable").count() == 2
    client.post(_batch("enable"), {"name": [d.name for d in two]})
    assert DomainStatus.OFFLINE not in set(Domain.objects.values_list("status", flat=True))
    assert OperationLog.objects.filter(action="domain.enable").count() == 2
    body = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    assert "2 domain names enabled." in body


def test_a_batch_delete_deletes_every_checked_domain(client, alice, two, cdn_domain):
    client.force_login(alice)
    response = client.post(_batch("delete"), {"name": [d.name for d in two]})
    assert response.status_code == 302
    assert list(Domain.objects.filter(deleted_at__isnull=True).values_list("name", flat=True)) == [
        cdn_domain.name
    ]
    assert OperationLog.objects.filter(action="domain.delete").count() == 2


def test_a_batch_with_another_accounts_domain_is_404_and_changes_nothing(client, alice, charlie, two):
    stranger = make_domain(account=charlie.membership.account, name="www.other.example")
    client.force_login(alice)
    names = [two[0].name, stranger.name]
    assert client.get(_batch("disable"), {"name": names}).status_code == 404
    assert client.post(_batch("disable"), {"name": names}).status_code == 404
    assert DomainStatus.OFFLINE not in set(Domain.objects.values_list("status", flat=True))


def test_a_stranger_gets_404_for_each_batch_action(client, charlie, two):
    client.force_login(charlie)
    for action in ("disable", "enable", "delete"):
        assert client.post(_batch(action), {"name": [two[0].name]}).status_code == 404
    assert Domain.objects.filter(deleted_at__isnull=True).count() == 2


def test_a_viewer_gets_403_for_each_batch_action(client, bob, two):
    client.force_login(bob)
    assert client.get(_batch("disable"), {"name": [two[0].name]}).status_code == 200
    for action in ("disable", "enable", "delete"):
        assert client.post(_batch(action), {"name": [two[0].name]}).status_code == 403
    assert DomainStatus.OFFLINE not in set(Domain.objects.values_list("status", flat=True))


def test_a_batch_needs_the_csrf_token(alice, two):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    assert csrf_client.post(_batch("delete"), {"name": [two[0].name]}).status_code == 403
    assert Domain.objects.filter(deleted_at__isnull=True).count() == 2


def test_a_batch_of_nothing_asks_to_select_first(client, alice, two):
    client.force_login(alice)
    body = client.post(_batch("disable"), {}).content.decode()
    assert "Select one or more domain names in the list first." in body


def test_an_unknown_batch_action_is_404(client, alice, two):
    client.force_login(alice)
    assert client.post(_batch("explode"), {"name": [two[0].name]}).status_code == 404


def test_the_row_dialogs_are_the_domains_own_with_the_ownership_trio(client, alice, bob, charlie, two):
    url = reverse("domains:disable", kwargs={"product": "cdn", "name": two[0].name})
    client.force_login(charlie)
    assert client.post(url).status_code == 404
    client.force_login(bob)
    assert client.post(url).status_code == 403
    client.force_login(alice)
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 204
    two[0].refresh_from_db()
    assert two[0].status == DomainStatus.OFFLINE
