"""Reads of delivery: how a domain's revisions stand on each edge node.

A node's status on the domain's latest revision comes from its `NodeDomainState`; on an older revision, from
the history of delivery rounds (`AppliedRevision`, pruned after EDGE_APPLIED_HISTORY_DAYS): applied when the
node applied it, superseded when a newer revision was published before it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from edge.models import AppliedRevision, ConfigRevision, DeploymentStatus, EdgeNode, NodeDomainState
from edge.state import lagging_report


@dataclass(frozen=True)
class NodeProgress:
    node: EdgeNode
    status: str
    attempts: int
    last_error: str
    applied_at: datetime | None


def _progress(
    node: EdgeNode, state: NodeDomainState | None, number: int, latest: int, applied_at: datetime | None
) -> NodeProgress:
    """How revision `number` (the domain's latest being `latest`) stands on `node`."""
    about = state is not None and state.number == number
    attempts = state.attempts if state is not None and about else 0
    if state is not None and state.applied_number == number:
        return NodeProgress(node, DeploymentStatus.APPLIED, attempts or 1, "", state.applied_at)
    if state is not None and state.applied_number > number:
        if applied_at is not None:
            return NodeProgress(node, DeploymentStatus.APPLIED, attempts or 1, "", applied_at)
        return NodeProgress(node, DeploymentStatus.SUPERSEDED, attempts, "", None)
    if number < latest:
        error = state.last_error if state is not None and about else ""
        return NodeProgress(node, DeploymentStatus.SUPERSEDED, attempts, error, None)
    if state is not None and about:
        return NodeProgress(node, state.status, state.attempts, state.last_error, None)
    return NodeProgress(node, DeploymentStatus.PENDING, 0, "", None)


def revision_progress(*, domain_id: int, number: int, latest: int) -> list[NodeProgress]:
    """Per enabled node, by name: how revision `number` of the domain stands (the latest being `latest`).

    One query for the nodes with their state on the domain, one for the history of an older revision.
    """
    nodes = (
        EdgeNode.objects.filter(enabled=True)
        .order_by("name")
        .prefetch_related(
            Prefetch("domain_states", NodeDomainState.objects.filter(domain_id=domain_id), to_attr="states")
        )
    )
    history: dict[int, datetime] = {}
    if number < latest:
        rounds = AppliedRevision.objects.filter(revision__domain_id=domain_id, revision__number=number)
        for node_ids, applied_at in rounds.order_by("applied_at").values_list("node_ids", "applied_at"):
            for node_id in node_ids:
                history.setdefault(node_id, applied_at)
    return [
        _progress(node, node.states[0] if node.states else None, number, latest, history.get(node.pk))
        for node in nodes
    ]


def delivery_progress(*, domain_id: int, number: int) -> tuple[int, int, list[NodeProgress]]:
    """(applied, total, per-node rows) for revision `number` of the domain, on enabled nodes."""
    latest = (
        ConfigRevision.objects.filter(domain_id=domain_id)
        .order_by("-number")
        .values_list("number", flat=True)
    ).first() or number
    rows = revision_progress(domain_id=domain_id, number=number, latest=max(latest, number))
    applied = sum(1 for row in rows if row.status == DeploymentStatus.APPLIED)
    return applied, len(rows), rows


def revision_deliveries(revision: ConfigRevision) -> list[NodeProgress]:
    """Per enabled node, by name: how `revision` stands on it."""
    return delivery_progress(domain_id=revision.domain_id, number=revision.number)[2]


def lagging_nodes(*, domain_id: int | None = None) -> list[tuple[str, str, int, int, str, str, datetime]]:
    """Which enabled nodes lag, on what, since when and why, in one query: (node, domain id, revision held,
    revision owed, status, last error, since), the longest lagging first (the reconciler's work list, on the
    outstanding revisions' partial index)."""
    return lagging_report(domain_id=domain_id)
