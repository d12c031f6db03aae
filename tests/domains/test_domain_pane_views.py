"""The Basic Information tab: its sections, the origin dialogs (add, modify, remove), and Disable / Enable /
Delete. Each write goes through its service, logs the operation and publishes a revision; bad input stays in
the dialog with its message; strangers get 404, viewers 403 on writes, and CSRF is enforced."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import Domain, DomainStatus, Origin, OriginPriority, OriginType
from domains.origin_services import OriginInput, origin_fingerprint, origin_update
from edge.models import ConfigRevision
from tests.factories import deliveries, delivery_record, make_domain, make_node

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(domain, name, **kwargs):
    return reverse(f"domains:{name}", kwargs={"product": domain.product, "name": domain.name} | kwargs)


def origin_data(**changes):
    data = {"type": "ipaddr", "address": "198.51.100.7", "port": "443", "priority": "20", "weight": "10"}
    return {k: v for k, v in (data | changes).items() if v is not None}


def events(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"])) - {"console-notice"}


def latest_document(domain):
    return ConfigRevision.objects.filter(domain=domain).order_by("-number").first().document


@pytest.fixture
def two_origins(alpha):
    return make_domain(
        account=alpha,
        name="two.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "backup.origin.example", 443)],
    )


# The tab and its sections


def test_the_tab_shows_the_facts_origins_and_actions_to_the_owner(client, alice, two_origins):
    client.force_login(alice)
    body = client.get(url(two_origins, "basic")).content.decode()
    for text in (
        "Basic Information",
        two_origins.cname,
        "Enabled",
        "Image and small file",
        "Chinese mainland",
        "203.0.113.10",
        "backup.origin.example",
        "Add origin",
        "Disable",
        "Delete",
        "Modify origin backup.origin.example",
        "Remove origin 203.0.113.10",
    ):
        assert text in body, text


def test_a_viewer_sees_the_tab_without_write_actions(client, bob, two_origins):
    client.force_login(bob)
    body = client.get(url(two_origins, "basic")).content.decode()
    assert "203.0.113.10" in body and "read-only" in body
    assert "Add origin" not in body and "Remove origin" not in body and ">Disable<" not in body


def test_a_disabled_domain_offers_enable(client, alice, cdn_domain):
    Domain.objects.filter(pk=cdn_domain.pk).update(status=DomainStatus.OFFLINE)
    client.force_login(alice)
    body = client.get(url(cdn_domain, "info_section")).content.decode()
    assert ">Enable<" in body and ">Disable<" not in body and "answer its requests with 403" in body


@pytest.mark.parametrize("name", ["basic", "info_section", "origins_section"])
def test_each_section_is_404_for_another_account_and_readable_by_a_viewer(
    client, bob, charlie, cdn_domain, name
):
    client.force_login(bob)
    assert client.get(url(cdn_domain, name)).status_code == 200
    client.force_login(charlie)
    assert client.get(url(cdn_domain, name)).status_code == 404


def test_anonymous_users_are_sent_to_log_on(client, cdn_domain):
    response = client.get(url(cdn_domain, "origin_add"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# Origins


def test_the_owner_adds_an_origin(client, alice, cdn_domain):
    make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    dialog = client.get(url(cdn_domain, "origin_add"), **HTMX)
    assert dialog.status_code == 200 and 'name="fingerprint"' not in dialog.content.decode()
    response = client.post(
        url(cdn_domain, "origin_add"),
        origin_data(type="domain", address="Origin2.Example.NET.", port="8443", priority="30", weight="55"),
        **HTMX,
    )
    assert response.status_code == 204 and events(response) == {"origins-saved", "domain-changed"}
    added = cdn_domain.origins.get(address="origin2.example.net")
    assert (added.type, added.port, added.priority, added.weight) == (
        "domain",
        8443,
        OriginPriority.BACKUP,
        55,
    )
    document = latest_document(cdn_domain)
    assert [o["address"] for o in document["origins"]] == ["203.0.113.10", "origin2.example.net"]
    log = OperationLog.objects.get(action="origin.add")
    assert (log.source, log.actor, log.domain_id) == (Source.CONSOLE, alice, cdn_domain.pk)
    assert Domain.objects.get(pk=cdn_domain.pk).status == DomainStatus.CONFIGURING
    section = client.get(url(cdn_domain, "origins_section")).content.decode()
    assert "origin2.example.net" in section and "8443" in section and "Backup" in section


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"type": "ipaddr", "address": "origin.example.com"}, "address", "is not an IP address"),
        ({"type": "domain", "address": "https://origin.example.com"}, "address", "scheme"),
        ({"type": "domain", "address": "*.example.com"}, "address", "Wildcard"),
        ({"type": "oss", "address": "bucket"}, "address", "at least two labels"),
        ({"type": "ftp"}, "type", "Select a valid choice"),
        ({"port": "0"}, "port", "between 1 and 65535"),
        ({"port": "65536"}, "port", "between 1 and 65535"),
        ({"port": "http"}, "port", "between 1 and 65535"),
        ({"priority": "25"}, "priority", "Select a valid choice"),
        ({"weight": "0"}, "weight", "between 1 and 100"),
        ({"weight": "101"}, "weight", "between 1 and 100"),
        ({"address": "203.0.113.10", "port": "443"}, "address", "listed twice"),
    ],
)
def test_bad_origin_input_stays_in_the_dialog_next_to_its_field(
    client, alice, cdn_domain, data, field, message
):
    client.force_login(alice)
    response = client.post(url(cdn_domain, "origin_add"), origin_data(**data), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body and message in body
    assert cdn_domain.origins.count() == 1
    assert not ConfigRevision.objects.exists() and not OperationLog.objects.exists()


def test_the_owner_modifies_an_origin(client, alice, two_origins):
    origin = two_origins.origins.get(address="backup.origin.example")
    client.force_login(alice)
    dialog = client.get(url(two_origins, "origin_edit", origin_id=origin.pk), **HTMX).content.decode()
    assert 'value="backup.origin.example"' in dialog and "Modify origin backup.origin.example" in dialog
    response = client.post(
        url(two_origins, "origin_edit", origin_id=origin.pk),
        origin_data(type="domain", address="backup2.origin.example", port="443", priority="30", weight="20"),
        **HTMX,
    )
    assert response.status_code == 204 and "origins-saved" in events(response)
    origin.refresh_from_db()
    assert (origin.address, origin.priority, origin.weight) == ("backup2.origin.example", 30, 20)
    assert OperationLog.objects.get(action="origin.update").before["address"] == "backup.origin.example"
    assert "backup2.origin.example" in [o["address"] for o in latest_document(two_origins)["origins"]]


def test_a_modification_over_someone_elses_change_is_refused(client, alice, two_origins):
    origin = two_origins.origins.get(address="backup.origin.example")
    edit = url(two_origins, "origin_edit", origin_id=origin.pk)
    client.force_login(alice)
    fingerprint = origin_fingerprint(origin)
    assert f'name="fingerprint" value="{fingerprint}"' in client.get(edit, **HTMX).content.decode()
    # Meanwhile, someone else changes its weight.
    origin_update(
        origin=origin,
        changes=OriginInput("domain", "backup.origin.example", 443, weight=70),
        context=ChangeContext(user=alice),
    )
    data = origin_data(type="domain", address="backup.origin.example", port="8443", fingerprint=fingerprint)
    response = client.post(edit, data, **HTMX)
    assert response.status_code == 200 and "Someone else changed this origin" in response.content.decode()
    origin.refresh_from_db()
    assert (origin.port, origin.weight) == (443, 70)
    fresh = origin_fingerprint(origin)
    response = client.post(edit, data | {"weight": "70", "fingerprint": fresh}, **HTMX)
    assert response.status_code == 204
    origin.refresh_from_db()
    assert (origin.port, origin.weight) == (8443, 70)


def test_an_unchanged_origin_publishes_nothing(client, alice, cdn_domain):
    origin = cdn_domain.origins.get()
    client.force_login(alice)
    response = client.post(
        url(cdn_domain, "origin_edit", origin_id=origin.pk), origin_data(address="203.0.113.10"), **HTMX
    )
    assert response.status_code == 204 and not ConfigRevision.objects.exists()


def test_a_change_that_would_break_the_origins_sni_shows_the_services_message(client, alice, alpha):
    domain = make_domain(account=alpha, origins=[(OriginType.DOMAIN, "a.origin.example", 443)])
    origin = domain.origins.get()
    Origin.objects.filter(pk=origin.pk).update(sni_host="ali_follow_origin")
    client.force_login(alice)
    response = client.post(
        url(domain, "origin_edit", origin_id=origin.pk),
        origin_data(type="ipaddr", address="198.51.100.9"),
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_type_error"' in body and "ali_follow_origin" in body
    origin.refresh_from_db()
    assert (origin.type, origin.address) == ("domain", "a.origin.example")
    assert not ConfigRevision.objects.exists()


def test_the_origin_update_service_refuses_an_ip_for_an_origin_that_follows_its_address(alice, alpha):
    domain = make_domain(account=alpha, origins=[(OriginType.DOMAIN, "a.origin.example", 443)])
    origin = domain.origins.get()
    Origin.objects.filter(pk=origin.pk).update(sni_host="ali_follow_origin")
    origin.refresh_from_db()

    with pytest.raises(ValidationError) as exc:
        origin_update(
            origin=origin,
            changes=OriginInput("ipaddr", "198.51.100.9", 443),
            context=ChangeContext(user=alice),
        )
    assert exc.value.error_dict["type"][0].code == "follow_origin_ip"
    # A domain-name origin keeps following its (new) address.
    origin_update(
        origin=origin,
        changes=OriginInput("domain", "b.origin.example", 443),
        context=ChangeContext(user=alice),
    )
    origin.refresh_from_db()
    assert (origin.address, origin.sni_host) == ("b.origin.example", "ali_follow_origin")


def test_the_owner_removes_an_origin(client, alice, two_origins):
    origin = two_origins.origins.get(address="203.0.113.10")
    client.force_login(alice)
    dialog = client.get(url(two_origins, "origin_remove", origin_id=origin.pk), **HTMX).content.decode()
    assert "203.0.113.10:443" in dialog and two_origins.name in dialog
    response = client.post(url(two_origins, "origin_remove", origin_id=origin.pk), **HTMX)
    assert response.status_code == 204 and "origins-saved" in events(response)
    assert list(two_origins.origins.values_list("address", flat=True)) == ["backup.origin.example"]
    assert OperationLog.objects.get(action="origin.remove").before["address"] == "203.0.113.10"
    assert [o["address"] for o in latest_document(two_origins)["origins"]] == ["backup.origin.example"]


def test_removing_the_last_origin_is_refused_with_a_clear_message(client, alice, cdn_domain):
    origin = cdn_domain.origins.get()
    client.force_login(alice)
    response = client.post(url(cdn_domain, "origin_remove", origin_id=origin.pk), **HTMX)
    assert response.status_code == 200
    assert "A domain needs at least one origin" in response.content.decode()
    assert cdn_domain.origins.count() == 1 and not ConfigRevision.objects.exists()


def test_an_origin_of_another_domain_is_404(client, alice, charlie, cdn_domain):
    other = make_domain(account=charlie.membership.account, name="www.other.example")
    foreign = other.origins.get()
    client.force_login(alice)
    for name in ("origin_edit", "origin_remove"):
        assert client.get(url(cdn_domain, name, origin_id=foreign.pk)).status_code == 404
        assert client.post(url(cdn_domain, name, origin_id=foreign.pk), origin_data()).status_code == 404
    assert other.origins.get().address == "203.0.113.10"


def origin_urls(domain):
    origin = domain.origins.first()
    return {
        "origin_add": url(domain, "origin_add"),
        "origin_edit": url(domain, "origin_edit", origin_id=origin.pk),
        "origin_remove": url(domain, "origin_remove", origin_id=origin.pk),
        "disable": url(domain, "disable"),
        "enable": url(domain, "enable"),
        "delete": url(domain, "delete"),
    }


WRITES = ["origin_add", "origin_edit", "origin_remove", "disable", "enable", "delete"]


def post_data(domain, name):
    if name == "delete":
        return {"confirm_name": domain.name}
    return origin_data(address="198.51.100.200")


@pytest.mark.parametrize("name", WRITES)
def test_another_account_gets_404_on_every_dialog_and_write(client, charlie, two_origins, name):
    target = origin_urls(two_origins)[name]
    client.force_login(charlie)
    assert client.get(target).status_code == 404
    assert client.post(target, post_data(two_origins, name), **HTMX).status_code == 404
    assert not OperationLog.objects.exists() and Domain.objects.filter(pk=two_origins.pk).exists()


@pytest.mark.parametrize("name", WRITES)
def test_a_viewer_sees_each_dialog_read_only_and_gets_403_on_write(client, bob, two_origins, name):
    target = origin_urls(two_origins)[name]
    client.force_login(bob)
    dialog = client.get(target, **HTMX)
    assert dialog.status_code == 200 and "read-only" in dialog.content.decode()
    assert client.post(target, post_data(two_origins, name), **HTMX).status_code == 403
    assert not OperationLog.objects.exists() and two_origins.origins.count() == 2


@pytest.mark.parametrize("name", WRITES)
def test_every_write_needs_the_csrf_token(alice, two_origins, name):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    target = origin_urls(two_origins)[name]
    assert strict.post(target, post_data(two_origins, name), **HTMX).status_code == 403
    assert not OperationLog.objects.exists()


@pytest.mark.parametrize("name", WRITES)
def test_every_dialog_refuses_other_methods(client, alice, two_origins, name):
    client.force_login(alice)
    assert client.put(origin_urls(two_origins)[name]).status_code == 405


# Disable, Enable, Delete


def test_the_owner_disables_and_enables_the_domain(client, alice, cdn_domain):
    make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    dialog = client.get(url(cdn_domain, "disable"), **HTMX).content.decode()
    assert f"Disable {cdn_domain.name}?" in dialog and ">Disable<" in dialog and "Cancel" in dialog

    response = client.post(url(cdn_domain, "disable"), **HTMX)
    assert response.status_code == 204 and events(response) == {"domain-saved", "domain-changed"}
    assert Domain.objects.get(pk=cdn_domain.pk).status == DomainStatus.OFFLINE
    assert latest_document(cdn_domain)["enabled"] is False
    assert OperationLog.objects.get(action="domain.disable").source == Source.CONSOLE
    info = client.get(url(cdn_domain, "info_section")).content.decode()
    assert "Disabled" in info and ">Enable<" in info
    status = client.get(url(cdn_domain, "status")).content.decode()
    assert "Disabled" in status and "every 1s" in status  # follows the nodes until they all applied it

    response = client.post(url(cdn_domain, "enable"), **HTMX)
    assert response.status_code == 204
    assert Domain.objects.get(pk=cdn_domain.pk).status == DomainStatus.CONFIGURING
    assert latest_document(cdn_domain)["enabled"] is True
    assert OperationLog.objects.filter(action="domain.enable").count() == 1


def test_disabling_twice_changes_nothing_the_second_time(client, alice, cdn_domain):
    client.force_login(alice)
    client.post(url(cdn_domain, "disable"), **HTMX)
    assert client.post(url(cdn_domain, "disable"), **HTMX).status_code == 204
    assert OperationLog.objects.filter(action="domain.disable").count() == 1
    assert ConfigRevision.objects.filter(domain=cdn_domain).count() == 1


def test_without_htmx_the_actions_fall_back_to_redirects(client, alice, cdn_domain):
    client.force_login(alice)
    response = client.post(url(cdn_domain, "disable"))
    assert response.status_code == 302 and response["Location"] == url(cdn_domain, "basic")
    response = client.post(url(cdn_domain, "delete"), {"confirm_name": cdn_domain.name})
    assert response.status_code == 302 and response["Location"] == reverse("domains:list", args=["cdn"])


def test_delete_asks_for_the_domain_name(client, alice, cdn_domain):
    make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    dialog = client.get(url(cdn_domain, "delete"), **HTMX).content.decode()
    assert f"Delete {cdn_domain.name}?" in dialog and "Enter the domain name to confirm" in dialog
    for typed in ("", "www.alpha.exampl", "other.example"):
        response = client.post(url(cdn_domain, "delete"), {"confirm_name": typed}, **HTMX)
        assert response.status_code == 200 and 'id="id_confirm_name_error"' in response.content.decode()
    assert Domain.objects.get(pk=cdn_domain.pk).deleted_at is None and not OperationLog.objects.exists()


def test_the_owner_deletes_the_domain_and_lands_on_the_list_with_a_message(client, alice, dcdn_domain):
    node = make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    response = client.post(url(dcdn_domain, "delete"), {"confirm_name": dcdn_domain.name.upper()}, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("domains:list", args=["dcdn"])
    # Hidden at once; the row stays until the edge node has dropped it.
    domain = Domain.objects.get(pk=dcdn_domain.pk)
    assert domain.deleted_at is not None and domain.status == DomainStatus.OFFLINE
    assert latest_document(domain) == {
        "domain": dcdn_domain.name,
        "revision": 1,
        "deleted": True,
        "schema": 1,
    }
    assert domain.revisions.get().outstanding and list(deliveries(domain)) == [node.name]
    log = OperationLog.objects.get(action="domain.delete")
    assert (log.domain_name, log.source) == (dcdn_domain.name, Source.CONSOLE)

    listing = client.get(reverse("domains:list", args=["dcdn"])).content.decode()
    assert f"{dcdn_domain.name} is deleted" in listing
    assert url(dcdn_domain, "basic") not in listing
    assert client.get(url(dcdn_domain, "basic")).status_code == 404
    assert (
        f"{dcdn_domain.name} is deleted"
        not in client.get(reverse("domains:list", args=["dcdn"])).content.decode()
    )


def test_a_domain_without_edge_nodes_is_deleted_at_once(client, alice, cdn_domain):
    client.force_login(alice)
    assert (
        client.post(url(cdn_domain, "delete"), {"confirm_name": cdn_domain.name}, **HTMX).status_code == 204
    )
    assert not Domain.objects.filter(pk=cdn_domain.pk).exists()


def test_a_failed_configuration_keeps_following_the_nodes_until_they_catch_up(client, alice, cdn_domain):
    from edge.delivery import domain_status_refresh
    from edge.models import DeploymentStatus

    make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    client.post(url(cdn_domain, "disable"), **HTMX)
    client.post(url(cdn_domain, "enable"), **HTMX)
    # The node cannot be reached and the retries gave up.
    delivery_record(cdn_domain, "edge-1", DeploymentStatus.FAILED)
    domain_status_refresh(domain_ids=[cdn_domain.pk])
    assert Domain.objects.get(pk=cdn_domain.pk).status == DomainStatus.CONFIGURE_FAILED

    # The reconciler keeps retrying a failed node, so the page keeps asking, less often.
    status = client.get(url(cdn_domain, "status")).content.decode()
    assert "0 of 1 edge nodes" in status and "every 5s" in status

    delivery_record(cdn_domain, "edge-1", DeploymentStatus.APPLIED)
    domain_status_refresh(domain_ids=[cdn_domain.pk])
    status = client.get(url(cdn_domain, "status")).content.decode()
    assert "1 of 1 edge nodes" in status and "every" not in status


def test_the_status_line_keeps_polling_until_the_domain_itself_leaves_configuring(client, alice, cdn_domain):
    from edge.models import DeploymentStatus

    make_node("edge-1", "http://127.0.0.1:9")
    client.force_login(alice)
    client.post(url(cdn_domain, "disable"), **HTMX)
    client.post(url(cdn_domain, "enable"), **HTMX)
    # Every node applied, and the domain's own status is not refreshed yet: the next poll shows Enabled.
    delivery_record(cdn_domain, "edge-1", DeploymentStatus.APPLIED)
    status = client.get(url(cdn_domain, "status")).content.decode()
    assert "1 of 1 edge nodes" in status and "Configuring" in status and "every 1s" in status
