"""Writes to several domains at once (the Domain Names list's batch actions): each domain goes through the
one-domain service of `domains.services`, all in one transaction, so a batch is all or nothing."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from accounts.audit import ChangeContext
from domains.models import Domain
from domains.services import domain_delete, domain_disable, domain_enable


def domains_set_enabled(*, domains: Sequence[Domain], enabled: bool, context: ChangeContext) -> None:
    """Enable or disable each domain; one already so is left as it is (no revision, no log entry)."""
    with transaction.atomic():
        # In id order: concurrent batches lock their rows in the same order and never deadlock.
        for domain in sorted(domains, key=lambda d: d.pk):
            (domain_enable if enabled else domain_disable)(domain=domain, context=context)


def domains_delete(*, domains: Sequence[Domain], context: ChangeContext) -> None:
    """Delete each domain, as `domain_delete` does one."""
    with transaction.atomic():
        for domain in sorted(domains, key=lambda d: d.pk):
            domain_delete(domain=domain, context=context)
