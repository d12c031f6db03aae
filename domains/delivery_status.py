"""How delivery of a domain's latest revision stands, in the reader's words: the status line's data, readable
failure reasons (the edge's own text one click away), the message after a save, and Retry of a failed node."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils.translation import gettext, ngettext

from domains.models import Domain
from edge.models import DeploymentStatus, EdgeNode
from edge.selectors import NodeProgress, delivery_progress
from edge.tasks import enqueue_node_delivery

_ANSWERED = re.compile(r"^Agent answered (\d{3})")


def failure_reason(error: str) -> str:
    """What a failed delivery's technical error means for the reader, in the reader's language."""
    if not error:
        return ""
    if error.startswith("Agent unreachable"):
        if "Timeout" in error or "timed out" in error:
            return gettext("The edge node did not answer in time.")
        return gettext("The edge node could not be reached.")
    answered = _ANSWERED.match(error)
    if answered:
        code = int(answered.group(1))
        if code in (401, 403):
            return gettext("The edge node refused the console's signature.")
        if code >= 500:
            return gettext("The edge node had an internal error.")
        return gettext("The edge node refused the configuration.")
    if error.startswith("Agent sent an unreadable answer"):
        return gettext("The edge node's answer could not be read.")
    return gettext("The edge node could not apply the configuration.")


@dataclass(frozen=True)
class NodeRow:
    node: EdgeNode
    status: str
    attempts: int
    last_error: str
    reason: str

    @property
    def retryable(self) -> bool:
        return self.status == DeploymentStatus.FAILED


def status_context(domain: Domain) -> dict[str, object]:
    """What the status line shows: applied of total nodes for the latest revision, and each node's row."""
    applied, total, progress = delivery_progress(domain_id=domain.pk, number=domain.config_revision)
    return {
        "domain": domain,
        "applied": applied,
        "total": total,
        "nodes": [_row(row) for row in progress],
        "failed": sum(1 for row in progress if row.status == DeploymentStatus.FAILED),
    }


def _row(row: NodeProgress) -> NodeRow:
    return NodeRow(row.node, row.status, row.attempts, row.last_error, failure_reason(row.last_error))


def saved_message(domain: Domain, *, changed: bool = True) -> str:
    """The message after a save: what happens next ("Saved. Deploying to 3 edge nodes…")."""
    if not changed:
        return gettext("Saved. Nothing changed, so nothing is deployed.")
    # The revision the save published (the caller's copy of the domain may predate it), on its nodes.
    number = Domain.objects.filter(pk=domain.pk).values_list("config_revision", flat=True).first()
    _applied, nodes, _rows = delivery_progress(domain_id=domain.pk, number=number or 0)
    if not nodes:
        return gettext("Saved. No edge node is enabled yet: the change is deployed when one is.")
    return ngettext(
        "Saved. Deploying to %(count)d edge node…", "Saved. Deploying to %(count)d edge nodes…", nodes
    ) % {"count": nodes}


def delivery_retry(*, domain: Domain, node_name: str) -> NodeRow | None:
    """Push a failed node the latest revision of the domain again, now; None if the node has no delivery of
    that revision. (Delivery always sends what the node lags on, so the push carries this revision.)"""
    _applied, _total, progress = delivery_progress(domain_id=domain.pk, number=domain.config_revision)
    row = next((row for row in progress if row.node.name == node_name), None)
    if row is None:
        return None
    if row.status in (DeploymentStatus.FAILED, DeploymentStatus.PENDING):
        transaction.on_commit(partial(enqueue_node_delivery, node_id=row.node.pk))
    return _row(row)


def saved_trigger(domain: Domain, *events: str, changed: bool = True, deploys: bool = True) -> str:
    """An HX-Trigger header after a save: the events that refresh the page's sections, and the notice that
    says what happens next."""
    message = saved_message(domain, changed=changed) if deploys else gettext("Saved.")
    return json.dumps({event: None for event in events} | {"console-notice": {"message": message}})
