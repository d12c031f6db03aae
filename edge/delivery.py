"""Delivering revisions to edge nodes and recording what each node applied (SPEC.md §5).

Delivery always sends a node the latest revision of each domain it lags on, one request per node, all nodes
concurrently (`edge.push`); so rapid edits coalesce, and a lost message or a node that was down is caught up
by the periodic reconciler. The outcome is written per deployment, then the domains are told how delivery of
their latest revision stands (`edge.signals.delivery_state_changed`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from edge.models import ConfigRevision, Deployment, DeploymentStatus, EdgeNode
from edge.push import Target, push_round
from edge.signals import DeliveryState, delivery_state_changed

logger = logging.getLogger(__name__)

LAGGING = (DeploymentStatus.PENDING, DeploymentStatus.FAILED)


@dataclass
class DeliveryOutcome:
    nodes: int = 0
    applied: int = 0
    failed_nodes: list[int] = field(default_factory=list)
    transient_failures: bool = False


@dataclass(frozen=True)
class _Lagging:
    """A lagging deployment: one revision owed to one node."""

    pk: int
    node_id: int
    revision_id: int
    number: int
    domain_id: int


def _lagging_deployments(
    *, domain_ids: list[int] | None, node_ids: list[int] | None, older_than: timedelta | None
) -> tuple[list[_Lagging], dict[int, Target], dict[int, dict[str, Any]]]:
    """The deployments to push, their nodes, and each revision's document, in one query.

    The document comes as text, which the database driver does not parse: only the first copy of each
    revision is (with 1000 nodes lagging on one revision, 1 document is parsed instead of 1000).
    """
    qs = Deployment.objects.filter(
        status__in=LAGGING,
        node__enabled=True,
        revision__number=F("revision__domain__config_revision"),
    )
    if domain_ids is not None:
        qs = qs.filter(revision__domain_id__in=domain_ids)
    if node_ids is not None:
        qs = qs.filter(node_id__in=node_ids)
    if older_than is not None:
        qs = qs.filter(updated_at__lte=timezone.now() - older_than)
    rows = qs.annotate(document_text=Cast("revision__document", TextField())).values_list(
        "pk",
        "node_id",
        "revision_id",
        "revision__number",
        "revision__domain_id",
        "node__name",
        "node__agent_url",
        "document_text",
    )
    deployments: list[_Lagging] = []
    targets: dict[int, Target] = {}
    documents: dict[int, dict[str, Any]] = {}
    for pk, node_id, revision_id, number, domain_id, name, agent_url, text in rows:
        deployments.append(_Lagging(pk, node_id, revision_id, number, domain_id))
        if node_id not in targets:
            targets[node_id] = Target(node_id, name, agent_url)
        if revision_id not in documents:
            documents[revision_id] = json.loads(text)
    return deployments, targets, documents


def deliver(
    *,
    domain_ids: list[int] | None = None,
    node_ids: list[int] | None = None,
    final: bool = False,
    older_than: timedelta | None = None,
) -> DeliveryOutcome:
    """Push the latest revision of every lagging (domain, node) pair, one request per node, concurrently.

    `domain_ids` and `node_ids` narrow it to those domains or nodes. `final` marks what still fails as
    `failed` (retries are exhausted); otherwise it stays pending.
    """
    deployments, targets, documents = _lagging_deployments(
        domain_ids=domain_ids, node_ids=node_ids, older_than=older_than
    )
    by_node: dict[int, list[_Lagging]] = defaultdict(list)
    for deployment in deployments:
        by_node[deployment.node_id].append(deployment)
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
    applied_pks: list[int] = []
    not_applied: list[int] = []
    contacted: list[int] = []
    failures: dict[tuple[str, bool], list[int]] = defaultdict(list)
    node_errors: dict[str, list[int]] = defaultdict(list)
    for result in results:
        items = by_node[result.node_id]
        if result.ok:
            contacted.append(result.node_id)
            for d in items:
                error = result.errors.get(names[d.revision_id])
                if error:
                    failures[(error, True)].append(d.pk)  # the domain's own: retrying now changes nothing
                    continue
                held = result.held.get(names[d.revision_id], 0)
                (applied_pks if held >= d.number else not_applied).append(d.pk)
        else:
            outcome.failed_nodes.append(result.node_id)
            outcome.transient_failures |= result.transient
            failures[(result.error, final or not result.transient)].extend(d.pk for d in items)
            node_errors[result.error].append(result.node_id)
            logger.warning("Push to edge node %s failed: %s", targets[result.node_id].name, result.error)
    if not_applied:
        failures[("The agent did not apply this revision", final)].extend(not_applied)

    # The outcome, the deployments first: each statement commits on its own (one round trip each, as few
    # as the outcome needs), so no lock is held across statements and none can deadlock with a change
    # publishing a revision (which locks its domain, then supersedes deployments).
    if applied_pks:
        outcome.applied = Deployment.objects.filter(pk__in=applied_pks, status__in=LAGGING).update(
            status=DeploymentStatus.APPLIED,
            applied_at=now,
            last_error="",
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    for (error, is_final), pks in failures.items():
        _record_failure(pks, error, final=is_final, now=now)
    # A domain's status moves only when a deployment became applied or failed (a reconcile pass refreshes
    # every domain it delivered, so it also repairs a status left behind).
    if outcome.applied or any(is_final for _, is_final in failures) or domain_ids is None:
        domain_status_refresh(domain_ids=sorted({d.domain_id for d in deployments}))

    # The nodes' last contact last: what a user waits for (deployments, domain statuses) is written first.
    if contacted:
        EdgeNode.objects.filter(pk__in=contacted).update(last_contact_at=now, last_error="")
    for error, node_ids in node_errors.items():
        EdgeNode.objects.filter(pk__in=node_ids).update(last_error=error[:2000])
    return outcome


def _record_failure(pks: list[int], error: str, *, final: bool, now) -> None:  # type: ignore[no-untyped-def]
    updates = {"last_error": error[:2000], "attempts": F("attempts") + 1, "updated_at": now}
    if final:
        updates["status"] = DeploymentStatus.FAILED
    Deployment.objects.filter(pk__in=pks, status__in=LAGGING).update(**updates)


def domain_status_refresh(*, domain_ids: list[int]) -> None:
    """Tell the domains how delivery of their latest revision stands (`edge.signals.delivery_state_changed`).

    Counted on enabled nodes: `failed` once any node's delivery gave up, `pending` while any node lags,
    `applied` when every node applied it, and `applied` too when no enabled node is owed anything.
    """
    if not domain_ids:
        return
    rows = (
        Deployment.objects.filter(
            revision__domain_id__in=domain_ids,
            revision__number=F("revision__domain__config_revision"),
            node__enabled=True,
        )
        .values("revision__domain_id", "revision__number")
        .annotate(
            total=Count("pk"),
            applied=Count("pk", filter=Q(status=DeploymentStatus.APPLIED)),
            failed=Count("pk", filter=Q(status=DeploymentStatus.FAILED)),
        )
        .order_by()
    )
    states: dict[int, DeliveryState] = {}
    for row in rows:
        if row["applied"] == row["total"]:
            state = DeliveryState.APPLIED
        elif row["failed"]:
            state = DeliveryState.FAILED
        else:
            state = DeliveryState.PENDING
        states[row["revision__domain_id"]] = DeliveryState(row["revision__number"], state)
    unserved = set(domain_ids) - set(states)
    if unserved:
        for domain_id, number in ConfigRevision.objects.filter(
            domain_id__in=unserved, number=F("domain__config_revision")
        ).values_list("domain_id", "number"):
            states[domain_id] = DeliveryState(number, DeliveryState.APPLIED)
    if states:
        delivery_state_changed.send(sender=Deployment, states=states)
