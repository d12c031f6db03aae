"""Edge nodes: added, changed, enabled, disabled and deleted by operators (the Django admin).

A node added or enabled is owed every domain's latest revision; a node disabled or deleted no longer holds any
domain in Configuring. The operation log belongs to accounts, and a node to none: these writes are in the
admin's history and the log here.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from accounts.audit import ChangeContext
from edge.delivery import domain_status_refresh
from edge.models import ConfigRevision, EdgeNode, NodeDomainState
from edge.publish import nodes_exclusive_lock
from edge.tasks import enqueue_node_delivery

logger = logging.getLogger(__name__)

NODE_CATCH_UP_BATCH = 2000


def edge_node_create(
    *, name: str, region: str, agent_url: str, signing_key: str, enabled: bool = True, context: ChangeContext
) -> EdgeNode:
    """Add an edge node; when enabled, it is owed every domain's latest revision (`_node_catch_up`)."""
    node = EdgeNode(name=name, region=region, agent_url=agent_url, signing_key=signing_key, enabled=enabled)
    node.full_clean()
    with transaction.atomic():
        node.save()
        if enabled:
            nodes_exclusive_lock()
            _node_catch_up(node)
    logger.info("Edge node %s added by %s (%s)", node.name, context.actor_name, context.source)
    return node


def edge_node_update(
    *,
    node: EdgeNode,
    name: str,
    region: str,
    agent_url: str,
    signing_key: str,
    enabled: bool,
    context: ChangeContext,
) -> EdgeNode:
    """Change a node's details; enabling or disabling it updates what it is owed and the domains' statuses."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        was_enabled = current.enabled
        current.name, current.region, current.agent_url = name, region, agent_url
        current.signing_key = signing_key
        current.full_clean()
        _node_enabled_set(current, enabled=enabled, was_enabled=was_enabled)
        # Only these fields: a delivery may be recording the node's last contact meanwhile.
        current.save(update_fields=["name", "region", "agent_url", "signing_key"])
    logger.info("Edge node %s changed by %s (%s)", current.name, context.actor_name, context.source)
    return current


def edge_node_set_enabled(*, node: EdgeNode, enabled: bool, context: ChangeContext) -> EdgeNode:
    """Enable a node (it is owed every domain's latest revision) or disable it (no domain waits on it)."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        changed = current.enabled != enabled
        _node_enabled_set(current, enabled=enabled, was_enabled=current.enabled)
    if changed:
        logger.info(
            "Edge node %s %s by %s (%s)",
            current.name,
            "enabled" if enabled else "disabled",
            context.actor_name,
            context.source,
        )
    node.enabled = enabled
    return current


def edge_node_delete(*, node: EdgeNode, context: ChangeContext) -> None:
    """Delete a node and its delivery state; the domains that were waiting only on it are settled."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).filter(pk=node.pk).first()
        if current is None:
            return
        nodes_exclusive_lock()
        waiting = _domains_waiting_on(current)
        current.delete()
        _domains_settle(waiting)
    logger.info("Edge node %s deleted by %s (%s)", node.name, context.actor_name, context.source)


def _node_enabled_set(node: EdgeNode, *, enabled: bool, was_enabled: bool) -> None:
    if enabled == was_enabled:
        return
    nodes_exclusive_lock()
    EdgeNode.objects.filter(pk=node.pk).update(enabled=enabled)
    node.enabled = enabled
    if enabled:
        _node_catch_up(node)
    else:
        _domains_settle(_domains_waiting_on(node))


def _node_catch_up(node: EdgeNode) -> None:
    """Owe `node` the latest revision of every domain it has not applied (implicit: nothing is written per
    domain for the node), and put those revisions back on the reconciler's list.

    The domains it has yet to apply are Configuring from now on; after commit the lot is delivered to the
    node (one request, retried, and re-sent by the reconciler if need be), and the domains are Enabled
    again once the node has applied them.
    Domains deleted but not yet dropped by every node are included, so a node enabled again drops them too.
    Call holding the nodes lock (`nodes_exclusive_lock`).
    """
    waiting = _domains_waiting_on(node)
    for start in range(0, len(waiting), NODE_CATCH_UP_BATCH):
        ConfigRevision.objects.filter(
            domain_id__in=waiting[start : start + NODE_CATCH_UP_BATCH],
            number=F("domain__config_revision"),
            outstanding=False,
        ).update(outstanding=True)
    domain_status_refresh(domain_ids=waiting)
    node_id = node.pk
    transaction.on_commit(lambda: enqueue_node_delivery(node_id=node_id))


def _domains_waiting_on(node: EdgeNode) -> list[int]:
    """The domains whose latest revision `node` has not applied."""
    applied = NodeDomainState.objects.filter(
        node=node, domain_id=OuterRef("domain_id"), applied_number__gte=OuterRef("number")
    )
    return list(
        ConfigRevision.objects.filter(number=F("domain__config_revision"))
        .exclude(Exists(applied))
        .order_by()
        .values_list("domain_id", flat=True)
    )


def _domains_settle(domain_ids: list[int]) -> None:
    """Refresh the delivery state of domains a node no longer counts for, from the enabled nodes that remain.

    A domain that no enabled node owes anything any more is as good as applied everywhere.
    """
    domain_status_refresh(domain_ids=domain_ids)
