"""Writes to domains and origins (SPEC.md §4.1-4.2), called by every entry point: pages, APIs, admin.

Each function validates with the shared rules, saves, writes the operation log and publishes a config
revision, in one transaction; delivery to the edge nodes is enqueued after commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, operation_log_write
from accounts.models import Account
from domains.models import (
    FOLLOW_ORIGIN,
    BusinessType,
    Coverage,
    Domain,
    DomainStatus,
    Origin,
    OriginFetchSettings,
    OriginPriority,
    OriginType,
    Product,
    ProtocolPolicy,
)
from domains.publishing import domain_config_publish
from domains.validators import validate_domain_name, validate_origin

CNAME_SUFFIX = "w.cdnconsole.net"
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


def cname_for(name: str) -> str:
    return f"{name.replace('*', 'all')}.{CNAME_SUFFIX}"


def origin_snapshot(origin: Origin) -> dict[str, Any]:
    return {
        "type": origin.type,
        "address": origin.address,
        "port": origin.port,
        "priority": origin.priority,
        "weight": origin.weight,
        "sni_host": origin.sni_host,
    }


def _clean_origins(origins: list[OriginInput]) -> list[dict[str, Any]]:
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


def domain_create(
    *,
    account: Account,
    name: str,
    product: str,
    business_type: str,
    coverage: str,
    origins: list[OriginInput],
    context: ChangeContext,
    description: str = "",
) -> Domain:
    """Add an accelerated domain with its origins; its first config revision goes to every edge node."""
    errors: dict[str, ValidationError] = {}
    try:
        normalized = validate_domain_name(name)
    except ValidationError as exc:
        errors["name"] = exc
        normalized = ""
    if product not in Product.values:
        errors["product"] = ValidationError(_("Choose the product: CDN or DCDN."), code="invalid")
    allowed_types = (
        [BusinessType.DYNAMIC]
        if product == Product.DCDN
        else [BusinessType.WEB, BusinessType.DOWNLOAD, BusinessType.VIDEO]
    )
    if business_type not in allowed_types:
        errors["business_type"] = ValidationError(
            _("Choose a business type of this product: %(types)s."),
            code="invalid",
            params={"types": ", ".join(str(BusinessType(t).label) for t in allowed_types)},
        )
    if coverage not in Coverage.values:
        errors["coverage"] = ValidationError(_("Choose the coverage."), code="invalid")
    if len(description) > 256:
        errors["description"] = ValidationError(_("At most 256 characters."), code="too_long")
    try:
        cleaned_origins = _clean_origins(origins)
    except ValidationError as exc:
        errors.update(exc.error_dict)  # type: ignore[arg-type]
    if normalized and Domain.objects.filter(name=normalized).exists():
        errors["name"] = _taken(normalized)
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            domain = Domain.objects.create(
                account=account,
                name=normalized,
                product=product,
                business_type=business_type,
                coverage=coverage,
                description=description,
                cname=cname_for(normalized),
                status=DomainStatus.CONFIGURING,
            )
            https = any(o["port"] == 443 for o in cleaned_origins)
            OriginFetchSettings.objects.create(
                domain=domain, forward_scheme=ProtocolPolicy.HTTPS if https else ProtocolPolicy.HTTP
            )
            for values in cleaned_origins:
                Origin.objects.create(domain=domain, **values)
            domain = Domain.objects.select_for_update().get(pk=domain.pk)
            revision = domain_config_publish(domain=domain, context=context, summary="Domain added")
            operation_log_write(
                context=context,
                account=account,
                domain=domain,
                action="domain.create",
                after={
                    "name": domain.name,
                    "product": product,
                    "business_type": business_type,
                    "coverage": coverage,
                    "origins": [origin_snapshot(o) for o in domain.origins.all()],
                },
                revision=revision.number if revision else None,
            )
    except IntegrityError:  # the same name added concurrently by someone else
        raise ValidationError({"name": _taken(normalized)}) from None
    return domain


def _taken(name: str) -> ValidationError:
    return ValidationError(
        _("The domain name %(name)s is already added to the CDN. Each domain name can be added only once."),
        code="taken",
        params={"name": name},
    )


def _locked(domain: Domain) -> Domain:
    return (
        Domain.objects.select_for_update()
        .select_related("account")
        .get(pk=domain.pk, deleted_at__isnull=True)
    )


def _set_status(domain: Domain, *, enabled: bool, context: ChangeContext) -> Domain:
    with transaction.atomic():
        locked = _locked(domain)
        before = locked.status
        if not domain_enabled_restore(domain=locked, enabled=enabled):
            return locked
        revision = domain_config_publish(
            domain=locked, context=context, summary="Domain enabled" if enabled else "Domain disabled"
        )
        operation_log_write(
            context=context,
            account=locked.account,
            domain=locked,
            action="domain.enable" if enabled else "domain.disable",
            before={"status": before},
            after={"status": locked.status},
            revision=revision.number if revision else None,
        )
    domain.status, domain.config_revision = locked.status, locked.config_revision
    return locked


def domain_enabled_restore(*, domain: Domain, enabled: bool) -> bool:
    """Part of a larger change (rollback): enable or disable the locked `domain`; the caller publishes and
    logs. Returns whether anything changed."""
    if (domain.status != DomainStatus.OFFLINE) == enabled:
        return False
    domain.status = DomainStatus.CONFIGURING if enabled else DomainStatus.OFFLINE
    Domain.objects.filter(pk=domain.pk).update(status=domain.status)
    return True


def domain_disable(*, domain: Domain, context: ChangeContext) -> Domain:
    """Stop accelerating the domain: every edge node stops serving it."""
    return _set_status(domain, enabled=False, context=context)


def domain_enable(*, domain: Domain, context: ChangeContext) -> Domain:
    """Serve a disabled domain again."""
    return _set_status(domain, enabled=True, context=context)


def domain_delete(*, domain: Domain, context: ChangeContext) -> None:
    """Delete the domain: it disappears from the console at once and from every edge node as they apply it.

    The row (and its history) is removed once every edge node has dropped the domain.
    """
    with transaction.atomic():
        locked = _locked(domain)
        locked.deleted_at = timezone.now()
        locked.status = DomainStatus.OFFLINE
        Domain.objects.filter(pk=locked.pk).update(deleted_at=locked.deleted_at, status=locked.status)
        revision = domain_config_publish(domain=locked, context=context, summary="Domain deleted")
        operation_log_write(
            context=context,
            account=locked.account,
            domain=None,
            domain_name=locked.name,
            action="domain.delete",
            before={"name": locked.name, "status": domain.status},
            revision=revision.number if revision else None,
        )
        if revision is None or not revision.deployments.exists():  # no edge node to tell
            locked.delete()


def origin_add(*, domain: Domain, origin: OriginInput, context: ChangeContext) -> Origin:
    with transaction.atomic():
        locked = _locked(domain)
        existing = [
            OriginInput(o.type, o.address, o.port, o.priority, o.weight) for o in locked.origins.all()
        ]
        values = _clean_origins([*existing, origin])[-1]
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
        locked = _locked(origin.domain)
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
        values = _clean_origins([*others, changes])[-1]
        _check_origin_sni_host(row, new_type=str(values["type"]))
        before = origin_snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        if origin_snapshot(row) == before:
            return row
        row.save()
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


def origins_restore(*, domain: Domain, origins: list[dict[str, Any]]) -> None:
    """Part of a larger change (rollback): make the locked `domain`'s origins these, validated as an edit's.

    Each origin is known by its address and port: one that still exists keeps its row (and id) and takes the
    values given; the others are removed or added. Each dict holds the origin's fields and `enabled` and
    `sni_host` (validated by the caller, whose rules they are). The caller publishes and logs the change.
    """
    cleaned = _clean_origins([OriginInput.from_dict(origin) for origin in origins])
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
        locked = _locked(domain)
        rows = {(o.address, o.port): o for o in locked.origins.all()}
        before = sorted((origin_snapshot(o) for o in rows.values()), key=lambda o: (o["address"], o["port"]))
        wanted = []
        for values in _clean_origins(origins):
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
        locked = _locked(origin.domain)
        row = Origin.objects.select_for_update().get(pk=origin.pk, domain=locked)
        if locked.origins.count() <= 1:
            raise ValidationError(
                _("A domain needs at least one origin: add another before removing this one."),
                code="last_origin",
            )
        before = origin_snapshot(row)
        row.delete()
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
