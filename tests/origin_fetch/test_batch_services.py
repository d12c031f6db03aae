"""The batch form of the settings services: many domains in one transaction, all or nothing, in a fixed
number of SQL statements, with a revision, deployments and an operation log entry per changed domain."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import DomainStatus, OriginFetchSettings, ProtocolPolicy
from edge.models import ConfigRevision, DeploymentStatus
from origin_fetch.services import (
    DomainValidationError,
    StaleVersionError,
    origin_host_update_many,
    origin_protocol_update_many,
    origin_sni_update,
    origin_sni_update_many,
)
from tests import factories
from tests.factories import make_domain, make_node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nodes(db):
    return [make_node(f"edge-{i}", f"http://127.0.0.1:{9900 + i}") for i in range(3)]


def ctx(user):
    return ChangeContext(user=user, source=Source.OPENAPI)


def sni_of(domain) -> tuple[bool, str, int]:
    settings = OriginFetchSettings.objects.get(domain=domain)
    return settings.sni_enabled, settings.sni_name, settings.version


def test_every_domain_gets_its_revision_deployments_and_log_entry(
    alpha, alice, nodes, django_capture_on_commit_callbacks
):
    domains = [make_domain(account=alpha) for _ in range(3)]
    with django_capture_on_commit_callbacks() as callbacks:
        changes = origin_sni_update_many(
            domains=domains, enabled=True, name="Origin.Example.COM", context=ctx(alice)
        )

    assert [change.changed for change in changes] == [True, True, True]
    for domain, change in zip(domains, changes, strict=True):
        assert sni_of(domain) == (True, "origin.example.com", 2)
        assert change.revision.domain_id == domain.pk and change.revision.number == 1
        assert change.revision.document["domain"] == domain.name
        assert change.revision.document["origins"][0]["sni"] == "origin.example.com"
        assert change.revision.snapshot["settings"]["sni_name"] == "origin.example.com"
        assert change.revision.source == Source.OPENAPI and change.revision.actor == alice
        deployments = factories.deliveries(domain, change.revision.number)
        assert sorted(deployments) == ["edge-0", "edge-1", "edge-2"]
        assert {d.status for d in deployments.values()} == {DeploymentStatus.PENDING}
        domain.refresh_from_db()
        assert (domain.status, domain.config_revision) == (DomainStatus.CONFIGURING, 1)
        entry = OperationLog.objects.get(domain=domain)
        assert (entry.action, entry.source, entry.actor, entry.revision) == (
            "origin_sni.update",
            Source.OPENAPI,
            alice,
            1,
        )
        assert entry.before == {"sni_enabled": False, "sni_name": ""}
        assert entry.after == {"sni_enabled": True, "sni_name": "origin.example.com"}
    assert len(callbacks) == 1  # one delivery task for the whole batch, after commit


def test_one_invalid_domain_refuses_the_batch_and_saves_nothing(alpha, alice):
    good = make_domain(account=alpha, name="good.alpha.example")
    http_only = make_domain(account=alpha, name="http.alpha.example", policy=ProtocolPolicy.HTTP)
    with pytest.raises(DomainValidationError) as caught:
        origin_sni_update_many(
            domains=[good, http_only], enabled=True, name="origin.example.com", context=ctx(alice)
        )
    assert caught.value.domain.pk == http_only.pk
    assert "Origin SNI requires back-to-origin over HTTPS (port 443)." in " ".join(caught.value.messages)
    assert sni_of(good) == (False, "", 1)
    assert not ConfigRevision.objects.exists() and not OperationLog.objects.exists()


def test_a_stale_version_of_one_domain_refuses_the_batch(alpha, alice):
    first, second = make_domain(account=alpha), make_domain(account=alpha)
    with pytest.raises(DomainValidationError) as caught:
        origin_sni_update_many(
            domains=[first, second],
            enabled=True,
            name="origin.example.com",
            context=ctx(alice),
            expected_versions={first.pk: 1, second.pk: 7},
        )
    assert caught.value.domain.pk == second.pk and isinstance(caught.value.error, StaleVersionError)
    assert sni_of(first) == (False, "", 1) and sni_of(second) == (False, "", 1)


def test_the_single_domain_service_raises_the_domains_own_error(cdn_domain, alice):
    with pytest.raises(StaleVersionError):
        origin_sni_update(
            domain=cdn_domain, enabled=True, name="o.example.com", context=ctx(alice), expected_version=3
        )


def test_domains_that_already_hold_the_value_get_no_revision(alpha, alice):
    done = make_domain(account=alpha, sni_enabled=True, sni_name="origin.example.com")
    todo = make_domain(account=alpha)
    changes = origin_sni_update_many(
        domains=[done, todo], enabled=True, name="origin.example.com", context=ctx(alice)
    )
    assert [(c.changed, c.revision is not None) for c in changes] == [(False, False), (True, True)]
    assert list(ConfigRevision.objects.values_list("domain_id", flat=True)) == [todo.pk]
    assert list(OperationLog.objects.values_list("domain_id", flat=True)) == [todo.pk]


def test_a_port_left_out_keeps_each_domains_own(alpha, alice):
    standard = make_domain(account=alpha, policy=ProtocolPolicy.HTTP)
    custom = make_domain(account=alpha, policy=ProtocolPolicy.HTTP, https_port=8443)
    origin_protocol_update_many(
        domains=[standard, custom], policy="https", http_port=None, https_port=None, context=ctx(alice)
    )
    ports = dict(OriginFetchSettings.objects.values_list("domain_id", "https_port"))
    assert ports == {standard.pk: 443, custom.pk: 8443}


def test_a_second_batch_supersedes_the_deployments_still_pending(alpha, alice):
    domains = [make_domain(account=alpha) for _ in range(2)]
    origin_host_update_many(domains=domains, host="a.example.org", context=ctx(alice))
    origin_host_update_many(domains=domains, host="b.example.org", context=ctx(alice))
    for domain in domains:
        by_revision = {
            number: status
            for number in (1, 2)
            for status in {d.status for d in factories.deliveries(domain, number).values()}
        }
        assert by_revision == {1: DeploymentStatus.SUPERSEDED, 2: DeploymentStatus.PENDING}
        domain.refresh_from_db()
        assert domain.config_revision == 2


def test_the_number_of_statements_does_not_grow_with_the_number_of_domains(alpha, alice):
    def statements(count: int, name: str) -> int:
        domains = [make_domain(account=alpha) for _ in range(count)]
        with CaptureQueriesContext(connection) as queries:
            origin_sni_update_many(domains=domains, enabled=True, name=name, context=ctx(alice))
        return len(queries)

    assert statements(2, "a.example.com") == statements(20, "b.example.com") <= 14


def test_a_setting_change_that_leaves_the_config_document_alike_publishes_nothing(
    alpha, alice, django_capture_on_commit_callbacks
):
    named = make_domain(account=alpha, name="named.alpha.example")
    origin_host_update_many(domains=[named], host="other.example.org", context=ctx(alice))
    origin_host_update_many(domains=[named], host="", context=ctx(alice))
    assert ConfigRevision.objects.filter(domain=named).count() == 2
    # The domain's own name as origin host is what the empty default means: the same document.
    with django_capture_on_commit_callbacks() as callbacks:
        changes = origin_host_update_many(domains=[named], host="named.alpha.example", context=ctx(alice))
    assert changes[0].changed and changes[0].revision is None
    assert callbacks == []
    assert ConfigRevision.objects.filter(domain=named).count() == 2
    assert OperationLog.objects.filter(domain=named).latest("id").revision is None
