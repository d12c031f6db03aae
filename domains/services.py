"""Writes to domains (SPEC.md §4.1), called by every entry point: pages, APIs, admin; their origins'
are in `domains.origin_services`.

Each function validates with the shared rules, saves, writes the operation log and publishes a config
revision, in one transaction; delivery to the edge nodes is enqueued after commit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, operation_log_write
from accounts.models import Account
from domains.models import (
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
from domains.origin_services import (
    OriginInput,
    clean_origins,
    locked_domain,
    origin_snapshot,
    refuse_edge_nodes,
)
from domains.ownership import ownership_check
from domains.publishing import domain_config_publish
from domains.validators import validate_domain_name

CNAME_SUFFIX = "w.cdnconsole.net"


def cname_for(name: str) -> str:
    return f"{name.replace('*', 'all')}.{CNAME_SUFFIX}"


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
        cleaned_origins = clean_origins(origins)
        refuse_edge_nodes(cleaned_origins)
    except ValidationError as exc:
        errors.update(exc.error_dict)  # type: ignore[arg-type]
    if normalized and Domain.objects.filter(name=normalized).exists():
        errors["name"] = _taken(normalized)
    elif normalized or normalized:
        try:
            ownership_check(account=account, name=normalized)
        except ValidationError as exc:
            errors["name"] = exc
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
                domain=domain,
                forward_scheme=ProtocolPolicy.HTTPS if https else ProtocolPolicy.HTTP,
                origin_host=_default_origin_host(cleaned_origins),
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


def _default_origin_host(origins: list[dict[str, Any]]) -> str:
    """The vendor's default origin host: the accelerated domain (stored empty), except that a domain added
    with an OSS origin sends the bucket's domain (the first primary one), as the vendor's console sets it."""
    buckets = sorted(
        (o for o in origins if o["type"] == OriginType.OSS),
        key=lambda o: o.get("priority", OriginPriority.PRIMARY),
    )
    return str(buckets[0]["address"]) if buckets else ""


def _taken(name: str) -> ValidationError:
    return ValidationError(
        _("The domain name %(name)s is already added to the CDN. Each domain name can be added only once."),
        code="taken",
        params={"name": name},
    )


def _set_status(domain: Domain, *, enabled: bool, context: ChangeContext) -> Domain:
    with transaction.atomic():
        locked = locked_domain(domain)
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
        locked = locked_domain(domain)
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
        if revision is None or not revision.outstanding:  # no edge node to tell
            locked.delete()
