"""Delivering revisions to edge nodes and recording what each node applied (SPEC.md §5).

Delivery always sends a node the latest revision of each domain it lags on, one request per node, all nodes
concurrently (`edge.push`); so rapid edits coalesce, and a lost message or a node that was down is caught up
by the periodic reconciler. A change's delivery is split into a bounded number of tasks, each for a share of
the nodes (`shard`), so more workers deliver to more nodes at once. The outcome is written per (domain, node)
(`edge.state`), then the domains are told how delivery of their latest revision stands
(`edge.signals.delivery_state_changed`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from edge.models import ConfigRevision, DeploymentStatus, EdgeNode, NodeDomainState
from edge.push import Target, push_round
from edge.signals import DeliveryState, delivery_state_changed
from edge.state import Lagging, lagging_pairs, record_applied, record_failure

logger = logging.getLogger(__name__)

# How fresh a node's "last contact" is kept: its row is written again only once it is older than this.
CONTACT_RESOLUTION = timedelta(seconds=60)


@dataclass
class DeliveryOutcome:
    nodes: int = 0
    applied: int = 0
    failed_nodes: list[int] = field(default_factory=list)
    transient_failures: bool = False


def _lagging(
    *,
    domain_ids: list[int] | None,
    node_ids: list[int] | None,
    older_than: timedelta | None,
    shard: tuple[int, int] | None,
) -> tuple[list[Lagging], dict[int, Target], dict[int, dict[str, Any]]]:
    """The pairs to push, their nodes, and each revision's document (read and parsed once, whatever the
    number of nodes lagging on it)."""
    cutoff = timezone.now() - older_than if older_than is not None else None
    pairs, nodes, texts = lagging_pairs(domain_ids=domain_ids, node_ids=node_ids, cutoff=cutoff, shard=shard)
    targets = {pk: Target(pk, name, agent_url) for pk, (name, agent_url) in nodes.items()}
    documents = {pk: json.loads(text) if isinstance(text, str) else text for pk, text in texts.items()}
    return pairs, targets, documents


def deliver(
    *,
    domain_ids: list[int] | None = None,
    node_ids: list[int] | None = None,
    final: bool = False,
    older_than: timedelta | None = None,
    shard: tuple[int, int] | None = None,
) -> DeliveryOutcome:
    """Push the latest revision of every lagging (domain, node) pair, one request per node, concurrently.

    `domain_ids` and `node_ids` narrow it to those domains or nodes, `shard` (index, count) to a share of
    the nodes. `final` marks what still fails as `failed` (retries are exhausted); otherwise it stays pending.
    """
    pairs, targets, documents = _lagging(
        domain_ids=domain_ids, node_ids=node_ids, older_than=older_than, shard=shard
    )
    by_node: dict[int, list[Lagging]] = defaultdict(list)
    for pair in pairs:
        by_node[pair.node_id].append(pair)
    outcome = DeliveryOutcome(nodes=len(by_node))
    if not by_node:
        return outcome

    # Each revision's document is read and serialised once, whatever the number of nodes that lag on it;
    # a node's body joins the shared bytes (the same bytes as serialising the whole body at once).
    names = {pk: document["domain"] for pk, document in documents.items()}
    serialised = {
        pk: json.dumps(document, separators=(",", ":")).encode() for pk, document in documents.items()
    }
    batches = {
        node_id: (
            targets[node_id],
            b'{"domains":[' + b",".join(serialised[d.revision_id] for d in items) + b"]}",
        )
        for node_id, items in by_node.items()
    }
    results = push_round(batches)

    now = timezone.now()
    applied: list[Lagging] = []
    not_applied: list[Lagging] = []
    contacted: list[int] = []
    failures: dict[tuple[str, bool], list[Lagging]] = defaultdict(list)
    node_errors: dict[str, list[int]] = defaultdict(list)
    for result in results:
        items = by_node[result.node_id]
        if result.ok:
            contacted.append(result.node_id)
            for d in items:
                error = result.errors.get(names[d.revision_id])
                if error:
                    failures[(error, True)].append(d)  # the domain's own: retrying now changes nothing
                    continue
                held = result.held.get(names[d.revision_id], 0)
                (applied if held >= d.number else not_applied).append(d)
        else:
            outcome.failed_nodes.append(result.node_id)
            outcome.transient_failures |= result.transient
            failures[(result.error, final or not result.transient)].extend(items)
            node_errors[result.error].append(result.node_id)
            logger.warning("Push to edge node %s failed: %s", targets[result.node_id].name, result.error)
    if not_applied:
        failures[("The agent did not apply this revision", final)].extend(not_applied)

    # The outcome, the (domain, node) states first: each statement commits on its own (as few as the
    # outcome needs, whatever the number of revisions), so no lock is held across statements and none can
    # deadlock with a change publishing a revision (which writes no per-node row).
    outcome.applied = record_applied(applied, now=now)
    for (error, is_final), items in failures.items():
        record_failure(items, error, final=is_final, now=now)
    # A domain's status moves only when a pair became applied or failed (a reconcile pass refreshes every
    # domain it delivered, so it also repairs a status left behind).
    if outcome.applied or any(is_final for _, is_final in failures) or domain_ids is None:
        domain_status_refresh(domain_ids=sorted({d.domain_id for d in pairs}))

    # The nodes' last contact last: what a user waits for (node states, domain statuses) is written first.
    if contacted:  # to the minute (a round every second would rewrite every node's row each second)
        stale = Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=now - CONTACT_RESOLUTION)
        EdgeNode.objects.filter(stale | ~Q(last_error=""), pk__in=contacted).update(
            last_contact_at=now, last_error=""
        )
    for error, node_ids in node_errors.items():
        EdgeNode.objects.filter(pk__in=node_ids).update(last_error=error[:2000])
    return outcome


def domain_status_refresh(*, domain_ids: list[int]) -> None:
    """Tell the domains how delivery of their latest revision stands (`edge.signals.delivery_state_changed`).

    Counted on enabled nodes: `failed` once any node's delivery gave up, `pending` while any node lags,
    `applied` when every node applied it, and `applied` too when no enabled node is owed anything.
    """
    if not domain_ids:
        return
    latest = {
        domain_id: (pk, number)
        for domain_id, pk, number in ConfigRevision.objects.filter(
            domain_id__in=domain_ids, number=F("domain__config_revision")
        ).values_list("domain_id", "pk", "number")
    }
    total = EdgeNode.objects.filter(enabled=True).count()
    latest_number = F("domain__config_revision")
    counts = {
        row["domain_id"]: row
        for row in NodeDomainState.objects.filter(domain_id__in=list(latest), node__enabled=True)
        .values("domain_id")
        .annotate(
            applied=Count("pk", filter=Q(applied_number__gte=latest_number)),
            failed=Count(
                "pk",
                filter=Q(
                    number=latest_number, status=DeploymentStatus.FAILED, applied_number__lt=latest_number
                ),
            ),
        )
        .order_by()
    }
    states: dict[int, DeliveryState] = {}
    settled: list[int] = []
    for domain_id, (pk, number) in latest.items():
        row = counts.get(domain_id, {"applied": 0, "failed": 0})
        if row["applied"] >= total:
            state = DeliveryState.APPLIED
            settled.append(pk)
        elif row["failed"]:
            state = DeliveryState.FAILED
        else:
            state = DeliveryState.PENDING
        states[domain_id] = DeliveryState(number, state)
    if settled:  # the reconciler has nothing more to do for these revisions
        ConfigRevision.objects.filter(pk__in=settled, outstanding=True).update(outstanding=False)
    if states:
        delivery_state_changed.send(sender=NodeDomainState, states=states)
