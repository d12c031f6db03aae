"""Writes to a domain's origins (SPEC.md §4.2), called by every entry point: pages, APIs, admin.

Each function validates with the shared rules, saves, writes the operation log and publishes a config
revision, in one transaction; delivery to the edge nodes is enqueued after commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, operation_log_write
from domains.documents import forward_scheme_of, sni_reaches_an_origin
from domains.models import (
    FOLLOW_ORIGIN,
    Domain,
    Origin,
    OriginPriority,
    OriginType,
)
from domains.origin_addresses import check_not_edge_node
from domains.publishing import domain_config_publish
from domains.selectors import settings_of
from domains.validators import validate_origin

MAX_ORIGINS = 20


@dataclass(frozen=True)
class OriginInput:
    type: str
    address: str
    port: int = 80
    priority: int = OriginPriority.PRIMARY
    weight: int = 10

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OriginInput:
        return cls(
            type=str(data.get("type", "")),
            address=str(data.get("address", "")),
            port=_int(data.get("port", 80)),
            priority=_int(data.get("priority", OriginPriority.PRIMARY)),
            weight=_int(data.get("weight", 10)),
        )


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return -1


def origin_snapshot(origin: Origin) -> dict[str, Any]:
    return {
        "type": origin.type,
        "address": origin.address,
        "port": origin.port,
        "priority": origin.priority,
        "weight": origin.weight,
        "sni_host": origin.sni_host,
    }


def clean_origins(origins: list[OriginInput]) -> list[dict[str, Any]]:
    if not origins:
        raise ValidationError({"origins": ValidationError(_("Add at least one origin."), code="required")})
    if len(origins) > MAX_ORIGINS:
        raise ValidationError(
            {"origins": ValidationError(_("A domain has at most 20 origins."), code="too_many")}
        )
    cleaned, seen = [], set()
    for index, origin in enumerate(origins):
        try:
            values = validate_origin(
                type=origin.type,
                address=origin.address,
                port=origin.port,
                priority=origin.priority,
                weight=origin.weight,
            )
        except ValidationError as exc:
            raise ValidationError(
                {f"origins.{index}.{field}": errors for field, errors in exc.error_dict.items()}
            ) from None
        key = (values["address"], values["port"])
        if key in seen:
            raise ValidationError(
                {
                    f"origins.{index}.address": ValidationError(
                        _("The origin %(address)s:%(port)s is listed twice."),
                        code="duplicate",
                        params={"address": key[0], "port": key[1]},
                    )
                }
            )
        seen.add(key)
        cleaned.append(values)
    return cleaned


def refuse_edge_nodes(cleaned: list[dict[str, Any]], *, first: int = 0) -> None:
    """Refuse origins (from position `first` of `cleaned` on) that are the edge nodes' own agents."""
    for index in range(first, len(cleaned)):
        try:
            check_not_edge_node(str(cleaned[index]["address"]))
        except ValidationError as exc:
            raise ValidationError({f"origins.{index}.address": exc}) from None


def locked_domain(domain: Domain) -> Domain:
    """The live domain's row, locked until the transaction ends (every change of a domain takes it)."""
    return (
        Domain.objects.select_for_update()
        .select_related("account")
        .get(pk=domain.pk, deleted_at__isnull=True)
    )


def origin_add(*, domain: Domain, origin: OriginInput, context: ChangeContext) -> Origin:
    with transaction.atomic():
        locked = locked_domain(domain)
        existing = [
            OriginInput(o.type, o.address, o.port, o.priority, o.weight) for o in locked.origins.all()
        ]
        cleaned = clean_origins([*existing, origin])
        refuse_edge_nodes(cleaned, first=len(existing))
        values = cleaned[-1]
        created = Origin.objects.create(domain=locked, **values)
        _publish_origin_change(locked, context, "origin.add", None, created)
    return created


def origin_fingerprint(origin: Origin) -> str:
    """A digest of the origin as stored: a dialog carries it, so a save over a newer change is refused."""
    snapshot = json.dumps(origin_snapshot(origin), sort_keys=True)
    return hashlib.sha256(snapshot.encode()).hexdigest()[:16]


def origin_update(
    *, origin: Origin, changes: OriginInput, context: ChangeContext, expected_fingerprint: str | None = None
) -> Origin:
    """Change one origin. With `expected_fingerprint` (see origin_fingerprint), a stale edit is refused."""
    with transaction.atomic():
        locked = locked_domain(origin.domain)
        row = Origin.objects.select_for_update().get(pk=origin.pk, domain=locked)
        if expected_fingerprint is not None and expected_fingerprint != origin_fingerprint(row):
            raise ValidationError(
                _(
                    "Someone else changed this origin while you were editing it. "
                    "Close the dialog and open it again to see the current values."
                ),
                code="stale",
            )
        others = [
            OriginInput(o.type, o.address, o.port, o.priority, o.weight)
            for o in locked.origins.exclude(pk=row.pk)
        ]
        cleaned = clean_origins([*others, changes])
        refuse_edge_nodes(cleaned, first=len(others))
        values = cleaned[-1]
        _check_origin_sni_host(row, new_type=str(values["type"]))
        before = origin_snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        if origin_snapshot(row) == before:
            return row
        row.save()
        _check_origin_sni_reach(locked, field="port")
        _publish_origin_change(locked, context, "origin.update", before, row)
    return row


def _check_origin_sni_host(row: Origin, *, new_type: str) -> None:
    """The origin's own SNI must still make sense for its new type: ali_follow_origin needs a name."""
    if row.sni_host == FOLLOW_ORIGIN and new_type == OriginType.IPADDR:
        raise ValidationError(
            {
                "type": ValidationError(
                    _(
                        "This origin's SNI follows the origin address (ali_follow_origin), which an IP "
                        "address cannot supply. Change the SNI of this origin first."
                    ),
                    code="follow_origin_ip",
                )
            }
        )


SNI_NEEDS_AN_ORIGIN_ON_443 = _(
    "Origin SNI is on and the origin protocol policy is off, so each origin is fetched on its own port and "
    "Origin SNI is sent to the origins on port 443 (over HTTPS). Keep at least one origin on port 443, or "
    "turn off Origin SNI first."
)


def _check_origin_sni_reach(domain: Domain, *, field: str | None) -> None:
    """SPEC.md §4.4 rule 6 from the origins' side, for a change already written in this transaction: with
    the protocol policy off, an enabled Origin SNI needs an enabled origin on port 443."""
    settings = settings_of(domain)
    if not settings.sni_enabled or settings.forward_scheme_enabled:
        return
    ports = domain.origins.filter(enabled=True).values_list("port", flat=True)
    if not sni_reaches_an_origin(scheme=forward_scheme_of(settings), origin_ports=ports):
        error = ValidationError(SNI_NEEDS_AN_ORIGIN_ON_443, code="breaks_origin_sni")
        raise ValidationError({field: error} if field else error)


def origins_restore(*, domain: Domain, origins: list[dict[str, Any]]) -> None:
    """Part of a larger change (rollback): make the locked `domain`'s origins these, validated as an edit's.

    Each origin is known by its address and port: one that still exists keeps its row (and id) and takes the
    values given; the others are removed or added. Each dict holds the origin's fields and `enabled` and
    `sni_host` (validated by the caller, whose rules they are). The caller publishes and logs the change.
    """
    cleaned = clean_origins([OriginInput.from_dict(origin) for origin in origins])
    refuse_edge_nodes(cleaned)
    wanted = {
        (values["address"], values["port"]): values
        | {"enabled": bool(origin.get("enabled", True)), "sni_host": origin.get("sni_host", "")}
        for values, origin in zip(cleaned, origins, strict=True)
    }
    rows = {(row.address, row.port): row for row in domain.origins.select_for_update()}
    Origin.objects.filter(pk__in=[row.pk for key, row in rows.items() if key not in wanted]).delete()
    for key, values in wanted.items():
        row = rows.get(key)
        if row is None:
            Origin.objects.create(domain=domain, **values)
            continue
        if any(getattr(row, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            row.save()
    if hasattr(domain, "_prefetched_objects_cache"):
        domain._prefetched_objects_cache.pop("origins", None)


def domain_origins_replace(*, domain: Domain, origins: list[OriginInput], context: ChangeContext) -> Domain:
    """Make the domain's origins exactly these, in one revision (the vendor's ModifyCdnDomain).

    An origin that stays (same address and port) keeps its row, its SNI and its configured functions; the
    others are removed or added. Validated as an edit of each origin is.
    """
    with transaction.atomic():
        locked = locked_domain(domain)
        rows = {(o.address, o.port): o for o in locked.origins.all()}
        before = sorted((origin_snapshot(o) for o in rows.values()), key=lambda o: (o["address"], o["port"]))
        wanted = []
        for values in clean_origins(origins):
            row = rows.get((values["address"], values["port"]))
            if row is not None:
                _check_origin_sni_host(row, new_type=str(values["type"]))
                values |= {"enabled": row.enabled, "sni_host": row.sni_host}
            wanted.append(values)
        origins_restore(domain=locked, origins=wanted)
        after = sorted(
            (origin_snapshot(o) for o in locked.origins.all()), key=lambda o: (o["address"], o["port"])
        )
        if after != before:
            revision = domain_config_publish(domain=locked, context=context, summary="Origins replaced")
            operation_log_write(
                context=context,
                account=locked.account,
                domain=locked,
                action="origins.replace",
                before={"origins": before},
                after={"origins": after},
                revision=revision.number if revision else None,
            )
    domain.status, domain.config_revision = locked.status, locked.config_revision
    return locked


def origin_remove(*, origin: Origin, context: ChangeContext) -> None:
    with transaction.atomic():
        locked = locked_domain(origin.domain)
        row = Origin.objects.select_for_update().get(pk=origin.pk, domain=locked)
        if locked.origins.count() <= 1:
            raise ValidationError(
                _("A domain needs at least one origin: add another before removing this one."),
                code="last_origin",
            )
        before = origin_snapshot(row)
        row.delete()
        _check_origin_sni_reach(locked, field=None)
        _publish_origin_change(locked, context, "origin.remove", before, None)


def _publish_origin_change(
    domain: Domain, context: ChangeContext, action: str, before: dict[str, Any] | None, after: Origin | None
) -> None:
    label = after.address if after else (before or {}).get("address", "")
    revision = domain_config_publish(domain=domain, context=context, summary=f"{action} {label}")
    operation_log_write(
        context=context,
        account=domain.account,
        domain=domain,
        action=action,
        before=before,
        after=origin_snapshot(after) if after else None,
        revision=revision.number if revision else None,
    )
