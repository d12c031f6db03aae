"""Edge nodes' signing keys: the keys a push is signed with, and rotating a node's key with no push lost.

A rotation has three steps. `edge_node_key_rotation_start` makes the node's next key (shown once), and from
then on every push is signed with both keys, so the agent accepts it whether it holds the old key, the new
one or both. The operator installs the new key on the node (the agent reads its key file again when it
changes; it may hold both keys, a line each). `edge_node_key_rotation_finish` checks that the agent accepts
the new key alone, then signs with it only; the old key can then leave the agent's key file.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext
from edge.models import EdgeNode, new_signing_key
from edge_agent.signing import read_headers

logger = logging.getLogger(__name__)


def node_signing_keys(node_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The keys each node's pushes are signed with now: its key, and its next key during a rotation."""
    rows = EdgeNode.objects.filter(pk__in=node_ids).values_list("pk", "signing_key", "next_signing_key")
    return {pk: (key, following) if following else (key,) for pk, key, following in rows}


def agent_accepts(node: EdgeNode, key: str) -> bool:
    """Whether the node's agent accepts a read signed with `key` alone."""
    path = "/status"
    try:
        response = httpx.get(
            node.agent_url.rstrip("/") + path,
            headers=read_headers(key, path),
            timeout=settings.EDGE_PUSH_TIMEOUT,
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def edge_node_key_rotation_start(*, node: EdgeNode, context: ChangeContext) -> str:
    """Make the node's next key; pushes are signed with both keys until the rotation ends. The new key is
    returned once, to install on the node."""
    key = new_signing_key()
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        current.next_signing_key = key
        current.save(update_fields=["next_signing_key"])
    logger.info(
        "Edge node %s: key rotation started by %s (%s)", node.name, context.actor_name, context.source
    )
    return key


def edge_node_key_rotation_finish(*, node: EdgeNode, context: ChangeContext) -> EdgeNode:
    """Sign with the next key only, once the node's agent accepts it alone (else ValidationError)."""
    current = EdgeNode.objects.get(pk=node.pk)
    if not current.next_signing_key:
        raise ValidationError(
            _("No key rotation is under way on %(node)s: start one first."),
            code="no_rotation",
            params={"node": current.name},
        )
    if not agent_accepts(current, current.next_signing_key):
        raise ValidationError(
            _(
                "The agent of %(node)s does not accept the new key yet: add it to the agent's key file (a "
                "line of its own), then finish the rotation. Pushes are signed with both keys meanwhile."
            ),
            code="key_not_installed",
            params={"node": current.name},
        )
    with transaction.atomic():
        locked = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        if locked.next_signing_key != current.next_signing_key:
            raise ValidationError(_("The rotation changed meanwhile: look at it again."), code="stale")
        locked.signing_key, locked.next_signing_key = locked.next_signing_key, ""
        locked.save(update_fields=["signing_key", "next_signing_key"])
    logger.info(
        "Edge node %s: key rotation finished by %s (%s)", node.name, context.actor_name, context.source
    )
    return locked


def edge_node_key_rotation_cancel(*, node: EdgeNode, context: ChangeContext) -> None:
    """Forget the next key: pushes are signed with the current key alone again."""
    EdgeNode.objects.filter(pk=node.pk).update(next_signing_key="")
    logger.info(
        "Edge node %s: key rotation cancelled by %s (%s)", node.name, context.actor_name, context.source
    )
