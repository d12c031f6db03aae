"""Celery tasks of edge delivery, and their enqueueing: thin wrappers around `edge.delivery`.

Changes enqueue through `enqueue_delivery_many` / `enqueue_node_delivery`, after their transaction commits;
if the broker is down then, the change is saved and pending, and the reconciler delivers it later.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections

from edge import delivery

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0


@task_prerun.connect
@task_postrun.connect
def _database_connections_recycled(task=None, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
    """Around each task, what Django does around a request: close a connection older than CONN_MAX_AGE, or
    unusable, and check the one kept before its next query (CONN_HEALTH_CHECKS). The worker keeps its
    connection between tasks (`CELERY_DB_REUSE_MAX`) instead of opening one per task. Not for a task run
    eagerly, inside its caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


def backoff(retries: int) -> float:
    """Exponential backoff with full jitter, capped."""
    return random.uniform(0.5, 1.0) * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)


@shared_task(
    name="edge.deliver_domain",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.EDGE_PUSH_MAX_RETRIES,
)
def deliver_domain(self, *, domain_id: int) -> None:  # type: ignore[no-untyped-def]
    """Push the domain's latest revision to every node that lags; retry the nodes that were unreachable.

    Kept for messages enqueued before `edge.deliver_domains` existed; new changes enqueue that one.
    """
    _deliver(self, [domain_id])


@shared_task(
    name="edge.deliver_domains",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.EDGE_PUSH_MAX_RETRIES,
)
def deliver_domains(self, *, domain_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Push the latest revision of these domains to every node that lags, one request per node (a batch
    change of many domains is one fan-out); retry the nodes that were unreachable."""
    _deliver(self, domain_ids)


@shared_task(
    name="edge.deliver_nodes",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.EDGE_PUSH_MAX_RETRIES,
)
def deliver_nodes(self, *, node_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Push these nodes every domain they lag on (a node added or enabled again); retry if unreachable."""
    _deliver(self, node_ids=node_ids)


def _deliver(task, domain_ids: list[int] | None = None, *, node_ids: list[int] | None = None) -> None:  # type: ignore[no-untyped-def]
    final = task.request.retries >= task.max_retries
    outcome = delivery.deliver(domain_ids=domain_ids, node_ids=node_ids, final=final)
    if outcome.transient_failures and not final:
        raise task.retry(countdown=backoff(task.request.retries))


@shared_task(name="edge.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> None:
    """Re-push to every node behind its desired revisions (lost messages, broker outages, nodes back up)."""
    grace = timedelta(seconds=min(5.0, settings.EDGE_RECONCILE_INTERVAL))
    delivery.deliver(older_than=grace)


def enqueue_delivery_many(*, domain_ids: list[int]) -> None:
    """Send one delivery task for these domains; if the broker is down, the reconciler delivers them later."""
    try:
        deliver_domains.delay(domain_ids=list(domain_ids))
    except Exception:  # the broker is down: the change is saved and pending; reconcile picks it up
        logger.warning(
            "Could not enqueue delivery of domains %s; the reconciler will deliver them", domain_ids
        )


def enqueue_node_delivery(*, node_id: int) -> None:
    """Send a node everything it is owed, now; if the broker is down, the reconciler delivers it later."""
    try:
        deliver_nodes.delay(node_ids=[node_id])
    except Exception:  # the broker is down: the deployments are saved and pending; reconcile picks them up
        logger.warning("Could not enqueue delivery to node %s; the reconciler will deliver it", node_id)
