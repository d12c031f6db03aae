"""A fleet of a thousand edge nodes makes a change no dearer to save than ten: the delivery state follows
domains × nodes, a change writes no row per node, its delivery is a bounded number of tasks over shares of
the nodes, and the per-node history is pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.audit import ChangeContext
from domains.models import DomainStatus
from edge.delivery import domain_status_refresh
from edge.models import AppliedRevision, ConfigRevision, DeploymentStatus, EdgeNode
from edge.selectors import lagging_nodes
from edge.state import lagging_pairs
from edge.tasks import delivery_shards, prune_history
from origin_fetch.services import origin_host_update, origin_host_update_many
from tests import factories
from tests.conftest import require

pytestmark = pytest.mark.django_db


def make_fleet(size: int) -> None:
    EdgeNode.objects.bulk_create(
        EdgeNode(name=f"edge-{index:04d}", agent_url=f"http://127.0.0.1:{20000 + index}/", signing_key="k")
        for index in range(size)
    )


def rows_written() -> int:
    """Rows inserted, updated and deleted in every table by the current transaction (PostgreSQL counts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
        )
        return int(cursor.fetchone()[0])


def written_by_saves(alpha, alice, nodes: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The rows written by one change of a domain, and by one change of 20 domains at once, with `nodes`
    enabled edge nodes (each domain already published once)."""
    make_fleet(nodes)
    domains = [factories.make_domain(account=alpha, name=f"s{index}.alpha.example") for index in range(20)]
    context = ChangeContext(alice)
    origin_host_update_many(domains=domains, host="first.alpha.example", context=context)
    before = rows_written()
    origin_host_update(domain=domains[0], host="second.alpha.example", context=context)
    one = rows_written() - before
    before = rows_written()
    origin_host_update_many(domains=domains, host="third.alpha.example", context=context)
    return one, rows_written() - before


@pytest.fixture
def postgresql() -> None:
    require(
        connection.vendor == "postgresql", "needs PostgreSQL's row counts: set DATABASE_URL=postgres://..."
    )


@pytest.mark.parametrize("nodes", [10, 1000])
def test_a_save_writes_as_many_rows_with_1000_nodes_as_with_10(postgresql, alpha, alice, nodes):
    one, twenty = written_by_saves(alpha, alice, nodes)
    # One domain: its revision, the previous revision no longer outstanding, the domain's row, its settings
    # row and the operation log entry. Twenty domains: the same per domain.
    assert (one, twenty) == (5, 100)


def test_the_pending_line_counts_every_enabled_node_without_a_row_for_any(alice, cdn_domain):
    make_fleet(1000)
    origin_host_update(domain=cdn_domain, host="x.alpha.example", context=ChangeContext(alice))
    factories.delivery_record(cdn_domain, "edge-0007", DeploymentStatus.APPLIED)
    factories.delivery_record(cdn_domain, "edge-0008", DeploymentStatus.FAILED, error="refused")
    domain_status_refresh(domain_ids=[cdn_domain.pk])

    rows = factories.deliveries(cdn_domain)
    assert len(rows) == 1000
    assert rows["edge-0007"].status == DeploymentStatus.APPLIED
    assert (rows["edge-0008"].status, rows["edge-0008"].last_error) == (DeploymentStatus.FAILED, "refused")
    assert {rows[name].status for name in ("edge-0000", "edge-0999")} == {DeploymentStatus.PENDING}
    cdn_domain.refresh_from_db()
    assert cdn_domain.status == DomainStatus.CONFIGURE_FAILED


def test_which_nodes_lag_on_what_since_when_and_why_is_one_query(
    alice, cdn_domain, django_assert_num_queries
):
    make_fleet(3)
    origin_host_update(domain=cdn_domain, host="x.alpha.example", context=ChangeContext(alice))
    factories.delivery_record(cdn_domain, "edge-0000", DeploymentStatus.APPLIED)
    factories.delivery_record(cdn_domain, "edge-0001", DeploymentStatus.FAILED, error="refused")
    revision = ConfigRevision.objects.get(domain=cdn_domain, number=1)

    with django_assert_num_queries(1):
        lagging = lagging_nodes()

    assert [(row[0], row[1], row[2], row[3], row[4], row[5]) for row in lagging] == [
        ("edge-0001", cdn_domain.pk, 0, 1, DeploymentStatus.FAILED, "refused"),
        ("edge-0002", cdn_domain.pk, 0, 1, DeploymentStatus.PENDING, ""),
    ]
    assert {row[6] for row in lagging} == {revision.created_at}


@override_settings(EDGE_DELIVERY_NODES_PER_TASK=250, EDGE_DELIVERY_MAX_TASKS=8)
def test_a_change_is_delivered_by_a_bounded_number_of_tasks_over_shares_of_the_nodes(alice, cdn_domain):
    assert [delivery_shards(n) for n in (0, 3, 250, 251, 1000, 100_000)] == [1, 1, 1, 2, 4, 8]
    make_fleet(1000)
    origin_host_update(domain=cdn_domain, host="x.alpha.example", context=ChangeContext(alice))
    shares = [
        {
            pair.node_id
            for pair in lagging_pairs(domain_ids=[cdn_domain.pk], node_ids=None, cutoff=None, shard=(i, 4))[0]
        }
        for i in range(4)
    ]
    assert sum(len(share) for share in shares) == 1000
    assert set().union(*shares) == set(EdgeNode.objects.values_list("pk", flat=True))


@override_settings(EDGE_APPLIED_HISTORY_DAYS=30)
def test_the_per_node_history_is_pruned_after_its_retention(alice, cdn_domain):
    make_fleet(2)
    origin_host_update(domain=cdn_domain, host="x.alpha.example", context=ChangeContext(alice))
    factories.delivery_record(cdn_domain, "edge-0000", DeploymentStatus.APPLIED)
    factories.delivery_record(cdn_domain, "edge-0001", DeploymentStatus.APPLIED)
    first, second = EdgeNode.objects.order_by("name")
    AppliedRevision.objects.filter(node_ids=[first.pk]).update(applied_at=timezone.now() - timedelta(days=31))

    assert prune_history() == 1

    assert list(AppliedRevision.objects.values_list("node_ids", flat=True)) == [[second.pk]]
    # What each node holds now stays: the latest revision is still applied on both.
    assert {row.status for row in factories.deliveries(cdn_domain).values()} == {DeploymentStatus.APPLIED}
