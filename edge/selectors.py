"""Reads of delivery: how a domain's latest revision stands on each edge node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.models import Deployment, DeploymentStatus, EdgeNode


@dataclass(frozen=True)
class NodeProgress:
    node: EdgeNode
    status: str
    attempts: int
    last_error: str
    applied_at: datetime | None


def delivery_progress(*, domain_id: int, number: int) -> tuple[int, int, list[NodeProgress]]:
    """(applied, total, per-node rows) for revision `number` of the domain, on enabled nodes."""
    deployments = (
        Deployment.objects.filter(revision__domain_id=domain_id, revision__number=number, node__enabled=True)
        .select_related("node")
        .order_by("node__name")
    )
    rows = [NodeProgress(d.node, d.status, d.attempts, d.last_error, d.applied_at) for d in deployments]
    applied = sum(1 for row in rows if row.status == DeploymentStatus.APPLIED)
    return applied, len(rows), rows
