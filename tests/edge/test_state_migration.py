"""The per-(revision, node) deployments of a database with history move to the per-(domain, node) delivery
state without losing what any node acknowledged, one node at a time outside a long transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from edge.models import AppliedRevision, ConfigRevision, EdgeNode, NodeDomainState
from edge.selectors import delivery_progress, lagging_nodes
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("edge", "0004_signing_keys_sealed")
LATEST = ("edge", "0008_applied_revision_rounds")


def migrate(target: tuple[str, str]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_the_data_migration_runs_outside_a_transaction():
    graph = MigrationLoader(connection, ignore_no_migrations=True).graph
    assert graph.nodes[("edge", "0006_deployments_to_node_states")].atomic is False
    assert graph.nodes[("edge", "0008_applied_revision_rounds")].atomic is False


def test_existing_deployments_become_the_delivery_state_and_no_acknowledgement_is_lost(alpha):
    a, b, c = (factories.make_node(f"edge-{n}", f"http://127.0.0.1:990{n}") for n in "abc")
    spare = factories.make_node("edge-spare", "http://127.0.0.1:9909")
    EdgeNode.objects.filter(pk=spare.pk).update(enabled=False)
    www = factories.make_domain(account=alpha, name="www.alpha.example")
    img = factories.make_domain(account=alpha, name="img.alpha.example")
    long_ago = timezone.now() - timedelta(days=90)
    recently = timezone.now() - timedelta(hours=1)
    try:
        old = migrate(BEFORE)
        Revision, Deployment = old.get_model("edge", "ConfigRevision"), old.get_model("edge", "Deployment")

        def revisions(domain, count):  # type: ignore[no-untyped-def]
            rows = [
                Revision.objects.create(
                    domain_id=domain.pk, number=n, document={"revision": n}, source="console"
                )
                for n in range(1, count + 1)
            ]
            type(domain).objects.filter(pk=domain.pk).update(config_revision=count)
            return rows

        w1, w2, w3 = revisions(www, 3)
        (i1,) = revisions(img, 1)
        deploy = Deployment.objects.create
        # www: a applied r1 long ago, r2 a day ago, then r3 an hour ago; b applied r1, r2 was superseded on
        # it and it failed r3 for good; c applied r2 and r3 is pending on it after two attempts.
        deploy(revision=w1, node_id=a.pk, status="applied", attempts=1, applied_at=long_ago)
        deploy(revision=w2, node_id=a.pk, status="applied", attempts=1, applied_at=recently)
        deploy(revision=w3, node_id=a.pk, status="applied", attempts=1, applied_at=recently)
        deploy(revision=w1, node_id=b.pk, status="applied", attempts=1, applied_at=long_ago)
        deploy(revision=w2, node_id=b.pk, status="superseded", attempts=1, last_error="timeout")
        deploy(revision=w3, node_id=b.pk, status="failed", attempts=6, last_error="refused")
        deploy(revision=w2, node_id=c.pk, status="applied", attempts=2, applied_at=recently)
        deploy(revision=w3, node_id=c.pk, status="pending", attempts=2, last_error="unreachable")
        # img: applied everywhere (the spare node, disabled, applied it before it was disabled).
        for node in (a, b, c, spare):
            deploy(revision=i1, node_id=node.pk, status="applied", attempts=1, applied_at=recently)
    finally:
        migrate(LATEST)

    held = {
        (s.node.name, s.domain.name): (s.applied_number, s.number, s.status, s.attempts, s.last_error)
        for s in NodeDomainState.objects.select_related("node", "domain")
    }
    assert held == {
        ("edge-a", "www.alpha.example"): (3, 3, "applied", 1, ""),
        ("edge-b", "www.alpha.example"): (1, 3, "failed", 6, "refused"),
        ("edge-c", "www.alpha.example"): (2, 3, "pending", 2, "unreachable"),
        **{(name, "img.alpha.example"): (1, 1, "applied", 1, "") for name in ("edge-a", "edge-b", "edge-c")},
        ("edge-spare", "img.alpha.example"): (1, 1, "applied", 1, ""),
    }
    # What the pages and the APIs read is what they read before.
    applied, total, rows = delivery_progress(domain_id=www.pk, number=3)
    assert (applied, total) == (1, 3)
    assert [(r.node.name, r.status, r.attempts, r.last_error) for r in rows] == [
        ("edge-a", "applied", 1, ""),
        ("edge-b", "failed", 6, "refused"),
        ("edge-c", "pending", 2, "unreachable"),
    ]
    assert [(r.node.name, r.status) for r in delivery_progress(domain_id=www.pk, number=2)[2]] == [
        ("edge-a", "applied"),
        ("edge-b", "superseded"),
        ("edge-c", "applied"),
    ]
    assert delivery_progress(domain_id=img.pk, number=1)[:2] == (3, 3)
    # The history within its retention moved; www's latest revision is still outstanding, img's is not.
    assert AppliedRevision.objects.filter(applied_at__lt=timezone.now() - timedelta(days=30)).count() == 0
    assert sum(len(row.node_ids) for row in AppliedRevision.objects.all()) == 7
    assert set(ConfigRevision.objects.filter(outstanding=True).values_list("domain__name", "number")) == {
        ("www.alpha.example", 3)
    }
    assert [(row[0], row[2], row[3]) for row in lagging_nodes()] == [("edge-b", 1, 3), ("edge-c", 2, 3)]


def test_the_history_of_rounds_goes_back_to_a_row_per_node_and_forth_again(alpha):
    """0008 regroups the per-node history into rounds; undone, every (revision, node, time) is back."""
    a, b = (factories.make_node(f"edge-{n}", f"http://127.0.0.1:990{n}") for n in "ab")
    www = factories.make_domain(account=alpha, name="www.alpha.example")
    revision = ConfigRevision.objects.create(domain=www, number=1, document={"revision": 1}, source="console")
    first, later = timezone.now() - timedelta(hours=2), timezone.now() - timedelta(hours=1)
    AppliedRevision.objects.create(revision=revision, applied_at=first, node_ids=[a.pk])
    AppliedRevision.objects.create(revision=revision, applied_at=later, node_ids=[b.pk])
    try:
        old = migrate(("edge", "0007_remove_deployment"))
        rows = old.get_model("edge", "AppliedRevision").objects.values_list("node_id", "applied_at")
        assert sorted(rows) == [(a.pk, first), (b.pk, later)]
    finally:
        migrate(LATEST)
    assert sorted(AppliedRevision.objects.values_list("node_ids", "applied_at")) == [
        ([a.pk], first),
        ([b.pk], later),
    ]
