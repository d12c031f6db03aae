"""Config revisions: what every enabled edge node must hold next (SPEC.md §5).

A revision is written in the transaction of the change that made it, and nothing per node: every enabled node
is owed a domain's latest revision by definition (`edge.models.NodeDomainState`), so a change writes as many
rows with 10 nodes as with 1,000. Delivery is enqueued after commit (`edge.tasks`), split into a bounded
number of tasks over the nodes. Delivery knows a domain only by its id and its
latest revision number: compiling documents and keeping the domain's own row belong to the features above.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery

from accounts.audit import ChangeContext
from edge.models import ConfigRevision, EdgeNode
from edge.tasks import enqueue_delivery_many

# Publishing a revision and changing which nodes are enabled exclude each other (PostgreSQL advisory lock):
# a node enabled meanwhile would miss the revision, or a domain would wait on a node just disabled.
# Publishes share the lock; a node change takes it alone. SQLite runs one write transaction at a time anyway.
_NODES_LOCK = 0x0ED6E


def nodes_shared_lock() -> None:
    """Hold off node changes until this transaction ends (every publish takes it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_NODES_LOCK])


def nodes_exclusive_lock() -> None:
    """Wait for the publishes in progress, and hold off new ones until this transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NODES_LOCK])


@dataclass(frozen=True)
class NewRevision:
    """A revision to write: the domain's next number, its document and the stored state it came from."""

    domain_id: int
    number: int
    document: dict[str, Any]
    snapshot: dict[str, Any]
    summary: str = ""


def latest_document() -> Subquery:
    """The document of a domain's latest revision, for `Domain.objects.annotate(latest_document=...)`.

    The latest revision is the one numbered `config_revision` (publishing writes both together), found by
    the (domain, number) unique index.
    """
    return Subquery(
        ConfigRevision.objects.filter(domain_id=OuterRef("pk"), number=OuterRef("config_revision")).values(
            "document"
        )[:1]
    )


def latest_documents(domain_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The document of each domain's latest revision, by domain id (none for a domain never published)."""
    return dict(
        ConfigRevision.objects.filter(
            domain_id__in=domain_ids, number=F("domain__config_revision")
        ).values_list("domain_id", "document")
    )


def enabled_node_count() -> int:
    return EdgeNode.objects.filter(enabled=True).count()


def revisions_publish(
    *, revisions: list[NewRevision], context: ChangeContext
) -> tuple[list[ConfigRevision], bool]:
    """Write `revisions`, owed to every enabled node; enqueue their delivery after commit.

    Call inside the transaction of the change, with the domains' rows locked, so numbers never collide.
    Earlier revisions of these domains still on their way are superseded: a node gets the latest, not each
    one. Returns the revisions written and whether any node is owed them (none: the change is live at once).
    Writes one row per revision, plus one per domain whose previous revision was still outstanding.
    """
    if not revisions:
        return [], False
    nodes_shared_lock()
    nodes = enabled_node_count()
    domain_ids = [revision.domain_id for revision in revisions]
    # Only a domain's latest revision can be outstanding (each publish supersedes the one before): found by
    # (domain, number) on the unique index, not by a scan of the outstanding index, whose entries for
    # revisions superseded moments ago stay until vacuum (tens of milliseconds under a stream of changes).
    previous = functools.reduce(
        operator.or_, (Q(domain_id=r.domain_id, number=r.number - 1) for r in revisions)
    )
    ConfigRevision.objects.filter(previous, outstanding=True).update(outstanding=False)
    rows = ConfigRevision.objects.bulk_create(
        [
            ConfigRevision(
                domain_id=revision.domain_id,
                number=revision.number,
                document=revision.document,
                snapshot=revision.snapshot,
                actor=context.user,
                actor_name=context.actor_name,
                source=context.source,
                remote_addr=context.remote_addr,
                summary=revision.summary[:300],
                outstanding=bool(nodes),
            )
            for revision in revisions
        ]
    )
    if nodes:
        transaction.on_commit(lambda: enqueue_delivery_many(domain_ids=domain_ids, nodes=nodes))
    return rows, bool(nodes)
