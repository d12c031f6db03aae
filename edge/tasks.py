"""Celery tasks of edge delivery, and their enqueueing: thin wrappers around `edge.delivery`.

Changes enqueue through `enqueue_delivery_many` / `enqueue_node_delivery`, after their transaction commits;
if the broker is down then, the change is saved and pending, and the reconciler delivers it later. A change's
delivery is split over the nodes into at most EDGE_DELIVERY_MAX_TASKS tasks (one per
EDGE_DELIVERY_NODES_PER_TASK enabled nodes), which the workers take in parallel; while a shard's task waits
in the queue, later changes join it (`edge.pending`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from datetime import timedelta

import redis
from celery import shared_task
from celery.exceptions import Retry
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from edge import delivery, pending
from edge.models import AppliedRevision

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
def deliver_domains(  # type: ignore[no-untyped-def]
    self, *, domain_ids: list[int] | None = None, shard: int = 0, shards: int = 1
) -> None:
    """Push the latest revision of these domains to every node of the shard (node id modulo `shards` is
    `shard`) that lags, one request per node (a batch change of many domains is one fan-out); retry the
    nodes that were unreachable. Without `domain_ids`, the domains pending for the shard (`edge.pending`):
    every change made since the shard's last task started."""
    if domain_ids is not None:
        _deliver(self, domain_ids, shard=(shard, shards))
        return
    client = pending.store()
    if client is None:
        return
    domain_ids = pending.take(client, shard, shards, self.request.id)
    if domain_ids:
        # A retry's message names the domains taken: the pending set has moved on meanwhile.
        retry = {"domain_ids": domain_ids, "shard": shard, "shards": shards}
        try:
            _deliver(self, domain_ids, shard=(shard, shards), retry_kwargs=retry)
        except Retry:
            pending.done(client, shard, shards, self.request.id)  # the retry's message names them
            raise
    pending.done(client, shard, shards, self.request.id)


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


def _deliver(  # type: ignore[no-untyped-def]
    task,
    domain_ids: list[int] | None = None,
    *,
    node_ids: list[int] | None = None,
    shard=None,
    retry_kwargs: dict | None = None,
) -> None:
    final = task.request.retries >= task.max_retries
    outcome = delivery.deliver(domain_ids=domain_ids, node_ids=node_ids, final=final, shard=shard)
    if outcome.transient_failures and not final:
        raise task.retry(countdown=backoff(task.request.retries), kwargs=retry_kwargs)


@shared_task(name="edge.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> None:
    """Re-push to every node behind its desired revisions (lost messages, broker outages, nodes back up)."""
    grace = timedelta(seconds=min(5.0, settings.EDGE_RECONCILE_INTERVAL))
    delivery.deliver(older_than=grace)


HISTORY_PRUNE_BATCH = 10_000


@shared_task(name="edge.prune_history", acks_late=True)
def prune_history() -> int:
    """Forget when nodes applied revisions more than EDGE_APPLIED_HISTORY_DAYS days ago, a batch of rows per
    statement (no long lock); what each node holds now stays (`NodeDomainState`). Returns the rows deleted."""
    before = timezone.now() - timedelta(days=settings.EDGE_APPLIED_HISTORY_DAYS)
    deleted = 0
    while True:
        batch = list(
            AppliedRevision.objects.filter(applied_at__lt=before).values_list("pk", flat=True)[
                :HISTORY_PRUNE_BATCH
            ]
        )
        if not batch:
            return deleted
        deleted += AppliedRevision.objects.filter(pk__in=batch).delete()[0]


def delivery_shards(nodes: int) -> int:
    """How many tasks deliver a change to `nodes` enabled nodes: bounded, whatever the fleet."""
    wanted = math.ceil(nodes / max(1, settings.EDGE_DELIVERY_NODES_PER_TASK))
    return max(1, min(settings.EDGE_DELIVERY_MAX_TASKS, wanted))


def enqueue_delivery_many(*, domain_ids: list[int], nodes: int = 0) -> None:
    """Deliver these domains: for each of the `delivery_shards` shares of `nodes` enabled nodes, join the
    task already queued for it, or queue one (`edge.pending`). If the broker is down, the reconciler
    delivers them later."""
    shards = delivery_shards(nodes)
    client = pending.store()
    try:
        if client is None:
            for shard in range(shards):
                deliver_domains.delay(domain_ids=list(domain_ids), shard=shard, shards=shards)
            return
        for shard in pending.join(client, list(domain_ids), shards):  # the others' queued task takes them
            _enqueue_joined(client, shard, shards)
    except Exception:  # the broker is down: the change is saved and pending; reconcile picks it up
        logger.warning(
            "Could not enqueue delivery of domains %s; the reconciler will deliver them", domain_ids
        )


def _enqueue_joined(client: redis.Redis, shard: int, shards: int) -> None:
    """Queue the task that takes the shard's pending domains; if it cannot be, the next change queues it."""
    try:
        deliver_domains.delay(shard=shard, shards=shards)
    except Exception:
        with contextlib.suppress(redis.RedisError):
            pending.not_queued(client, shard, shards)
        raise


def enqueue_node_delivery(*, node_id: int) -> None:
    """Send a node everything it is owed, now; if the broker is down, the reconciler delivers it later."""
    try:
        deliver_nodes.delay(node_ids=[node_id])
    except Exception:  # the broker is down: the node is owed its domains; reconcile delivers them
        logger.warning("Could not enqueue delivery to node %s; the reconciler will deliver it", node_id)
