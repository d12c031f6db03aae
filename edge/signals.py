"""What delivery tells the features above it, which keep the domains' own rows."""

from __future__ import annotations

from typing import NamedTuple

from django.dispatch import Signal


class DeliveryState(NamedTuple):
    """How delivery of a domain's latest revision (`number`) stands on the enabled nodes."""

    number: int
    state: str

    PENDING = "pending"  # some node has yet to apply it
    APPLIED = "applied"  # every node applied it (or no node is owed anything)
    FAILED = "failed"  # a node's delivery gave up


# Sent with `states`: {domain id: DeliveryState}, inside the transaction (or statement) that recorded it.
delivery_state_changed = Signal()
