from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import DomainStatus, OriginFetchSettings, ProtocolPolicy
from edge.models import ConfigRevision, DeploymentStatus
from origin_fetch.services import StaleVersionError, origin_sni_update
from tests.factories import deliveries, make_domain, make_node

pytestmark = pytest.mark.django_db


@pytest.fixture
def nodes(db):
    return [make_node(f"edge-{i}", f"http://127.0.0.1:{9900 + i}") for i in range(3)]


def update(domain, user, **kwargs):
    kwargs.setdefault("enabled", True)
    kwargs.setdefault("name", "origin.example.com")
    return origin_sni_update(domain=domain, context=ChangeContext(user=user, source=Source.CONSOLE), **kwargs)


def test_it_saves_a_normalised_name_and_publishes_a_revision_for_every_node(
    cdn_domain, alice, nodes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        change = update(cdn_domain, alice, name="  Origin.Example.COM. ")

    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.sni_enabled, settings.sni_name) == (True, "origin.example.com")
    assert change.changed and change.revision.number == 1
    assert change.revision.document["origin_sni"] == {"enabled": True, "name": "origin.example.com"}
    assert change.revision.document["origins"][0]["sni"] == "origin.example.com"
    deployments = deliveries(cdn_domain, change.revision.number)
    assert sorted(deployments) == ["edge-0", "edge-1", "edge-2"]
    assert {d.status for d in deployments.values()} == {DeploymentStatus.PENDING}
    cdn_domain.refresh_from_db()
    assert (cdn_domain.status, cdn_domain.config_revision) == (DomainStatus.CONFIGURING, 1)
    assert len(callbacks) == 1  # one delivery, enqueued only after commit


def test_it_writes_the_operation_log_with_before_and_after(cdn_domain, alice, nodes):
    update(cdn_domain, alice)
    entry = OperationLog.objects.get(domain=cdn_domain)
    assert entry.actor == alice and entry.source == Source.CONSOLE and entry.action == "origin_sni.update"
    assert entry.before == {"sni_enabled": False, "sni_name": ""}
    assert entry.after == {"sni_enabled": True, "sni_name": "origin.example.com"}
    assert entry.revision == 1


def test_a_save_that_changes_nothing_creates_no_revision_and_sends_nothing(
    cdn_domain, alice, nodes, django_capture_on_commit_callbacks
):
    update(cdn_domain, alice)
    with django_capture_on_commit_callbacks() as callbacks:
        change = update(cdn_domain, alice, name="ORIGIN.example.com")
    assert not change.changed and change.revision is None
    assert callbacks == []
    assert ConfigRevision.objects.filter(domain=cdn_domain).count() == 1
    assert OperationLog.objects.filter(domain=cdn_domain).count() == 1


def test_it_refuses_a_wildcard_and_saves_nothing(cdn_domain, alice, nodes):
    with pytest.raises(ValidationError) as excinfo:
        update(cdn_domain, alice, name="*.example.com")
    assert "Wildcard" in " ".join(excinfo.value.messages)
    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.sni_enabled, settings.sni_name, settings.version) == (False, "", 1)
    assert not ConfigRevision.objects.exists() and not OperationLog.objects.exists()


def test_it_refuses_sni_when_back_to_origin_is_http_only(alpha, alice, nodes):
    domain = make_domain(account=alpha, name="http.alpha.example", policy=ProtocolPolicy.HTTP)
    with pytest.raises(ValidationError) as excinfo:
        update(domain, alice)
    assert "Origin SNI requires back-to-origin over HTTPS (port 443)" in " ".join(excinfo.value.messages)
    assert not ConfigRevision.objects.exists()


def test_it_refuses_sni_when_the_https_port_is_not_443(alpha, alice, nodes):
    domain = make_domain(account=alpha, name="port.alpha.example", https_port=8443)
    with pytest.raises(ValidationError):
        update(domain, alice)


def test_turning_sni_off_keeps_the_name(cdn_domain, alice, nodes):
    update(cdn_domain, alice)
    change = update(cdn_domain, alice, enabled=False, name="")
    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.sni_enabled, settings.sni_name) == (False, "origin.example.com")
    assert change.revision.number == 2
    assert change.revision.document["origins"][0]["sni"] is None


def test_a_save_based_on_a_stale_version_is_refused(cdn_domain, alice, nodes):
    update(cdn_domain, alice, expected_version=1)
    with pytest.raises(StaleVersionError):
        update(cdn_domain, alice, name="other.example.com", expected_version=1)
    assert OriginFetchSettings.objects.get(domain=cdn_domain).sni_name == "origin.example.com"


def test_a_new_revision_supersedes_deliveries_still_pending(cdn_domain, alice, nodes):
    first = update(cdn_domain, alice).revision
    second = update(cdn_domain, alice, name="other.example.com").revision
    assert {d.status for d in deliveries(cdn_domain, first.number).values()} == {DeploymentStatus.SUPERSEDED}
    assert {d.status for d in deliveries(cdn_domain, second.number).values()} == {DeploymentStatus.PENDING}


def test_without_edge_nodes_the_domain_stays_online(cdn_domain, alice):
    update(cdn_domain, alice)
    cdn_domain.refresh_from_db()
    assert cdn_domain.status == DomainStatus.ONLINE
