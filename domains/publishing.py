"""Publishing a domain's configuration: compile its document, write a revision when it changed, keep the
domain's row in step with delivery.

Every change of a domain, its origins or its back-to-origin settings ends here, in the change's transaction:
a new revision for the edge nodes (`edge.publish`) when the compiled document differs from the latest one,
none when nothing effective changed. Delivery then tells how the revision stands on the nodes
(`edge.signals.delivery_state_changed`), and the domain's status follows (`domains_follow_delivery`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, prefetch_related_objects
from django.utils import timezone

from accounts.audit import ChangeContext
from domains.documents import compile_domain_config, domain_document_check, same_config
from domains.models import Domain, DomainStatus
from domains.selectors import settings_of
from edge.models import ConfigRevision
from edge.publish import NewRevision, latest_documents, revisions_publish
from edge.signals import DeliveryState

SNAPSHOT_SETTINGS = (
    "forward_scheme_enabled",
    "forward_scheme",
    "http_port",
    "https_port",
    "origin_host",
    "sni_enabled",
    "sni_name",
    "verify_origin_cert",
)
SNAPSHOT_ORIGIN = ("type", "address", "port", "priority", "weight", "enabled", "sni_host")


def domain_snapshot(domain: Domain) -> dict[str, Any]:
    """The stored state a revision was compiled from (settings, origins, enabled), for rollback.

    Reads the domain's settings and `domain.origins.all()`, so prefetched values are used as they are.
    """
    settings_row = settings_of(domain)
    return {
        "enabled": domain.status != DomainStatus.OFFLINE,
        "settings": {field: getattr(settings_row, field) for field in SNAPSHOT_SETTINGS},
        "origins": [
            {field: getattr(origin, field) for field in SNAPSHOT_ORIGIN}
            for origin in sorted(domain.origins.all(), key=lambda origin: origin.pk)
        ],
    }


def domain_config_publish(
    *, domain: Domain, context: ChangeContext, summary: str = ""
) -> ConfigRevision | None:
    """Write a new revision of `domain`'s config if it differs from the latest one, and schedule delivery.

    Call inside the transaction that changed the domain, with the domain row locked (select_for_update), so
    revision numbers never collide. Returns None when nothing effective changed: no revision, no push.
    """
    return domain_config_publish_many(domains=[domain], context=context, summaries={domain.pk: summary})[
        domain.pk
    ]


def domain_config_publish_many(
    *, domains: list[Domain], context: ChangeContext, summaries: dict[int, str]
) -> dict[int, ConfigRevision | None]:
    """`domain_config_publish` for several domains at once, in a fixed number of statements.

    Same contract: call inside the transaction that changed the domains, with their rows locked. What the
    caller already loaded is used as it is: `domain.origin_fetch`, prefetched `origins` and a
    `latest_document` annotation (`edge.publish.latest_document`); the rest is loaded in one query each.
    Returns, per domain id, the new revision or None when the domain's effective config did not change.
    """
    if not domains:
        return {}
    prefetch_related_objects(domains, "origin_fetch", "origins")
    latest = {domain.pk: domain.latest_document for domain in domains if hasattr(domain, "latest_document")}
    unknown = [domain.pk for domain in domains if domain.pk not in latest]
    if unknown:
        latest |= latest_documents(unknown)
    result: dict[int, ConfigRevision | None] = {}
    changed: list[tuple[Domain, NewRevision]] = []
    for domain in domains:
        number = domain.config_revision + 1
        document = compile_domain_config(domain, revision=number).as_dict()
        domain_document_check(document)
        previous = latest.get(domain.pk)
        result[domain.pk] = None
        if previous is not None and same_config(previous, document):
            continue
        revision = NewRevision(
            domain_id=domain.pk,
            number=number,
            document=document,
            snapshot=domain_snapshot(domain),
            summary=summaries.get(domain.pk, ""),
        )
        changed.append((domain, revision))
    if not changed:
        return result

    rows, owed = revisions_publish(revisions=[revision for _, revision in changed], context=context)
    result |= {row.domain_id: row for row in rows}
    # Every locked row moves to its next revision number: one UPDATE per resulting status.
    now = timezone.now()
    by_status: dict[str, list[int]] = defaultdict(list)
    for domain, revision in changed:
        if domain.status != DomainStatus.OFFLINE:
            domain.status = DomainStatus.CONFIGURING if owed else DomainStatus.ONLINE
        domain.config_revision, domain.modified_at = revision.number, now
        by_status[domain.status].append(domain.pk)
    for status, pks in by_status.items():
        Domain.objects.filter(pk__in=pks).update(
            config_revision=F("config_revision") + 1, status=status, modified_at=now
        )
    return result


_STATUS_OF = {
    DeliveryState.APPLIED: DomainStatus.ONLINE,
    DeliveryState.PENDING: DomainStatus.CONFIGURING,
    DeliveryState.FAILED: DomainStatus.CONFIGURE_FAILED,
}


def domains_follow_delivery(*, states: dict[int, DeliveryState], **kwargs: object) -> None:
    """Set each domain's status from how delivery of its latest revision stands; drop deleted ones for good.

    Only for the revision counted (a newer one has its own delivery), never over a disabled domain, and a
    deleted domain's row goes once every node has dropped it. Writes only what changes.
    """
    rows = Domain.objects.filter(pk__in=list(states)).values_list(
        "pk", "config_revision", "status", "deleted_at"
    )
    updates: dict[str, list[int]] = defaultdict(list)
    gone: list[int] = []
    for pk, number, status, deleted_at in rows:
        delivery = states[pk]
        if delivery.number != number:
            continue
        if deleted_at is not None:
            if delivery.state == DeliveryState.APPLIED:
                gone.append(pk)
            continue
        wanted = _STATUS_OF[delivery.state]
        if status not in (DomainStatus.OFFLINE, wanted):
            updates[wanted].append(pk)
    for wanted, pks in updates.items():
        # The conditions again in the statement: a change may have published meanwhile.
        for pk in pks:
            Domain.objects.filter(pk=pk, config_revision=states[pk].number, deleted_at__isnull=True).exclude(
                status__in=[DomainStatus.OFFLINE, wanted]
            ).update(status=wanted)
    for pk in gone:
        Domain.objects.filter(pk=pk, deleted_at__isnull=False, config_revision=states[pk].number).delete()
