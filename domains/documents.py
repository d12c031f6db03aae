"""The domain config document: what an edge node needs to fetch from a domain's origins.

`compile_domain_config` is the one function that turns the models into the document, an instance of the wire
contract that the agents apply (`edge_agent.contract`: the one definition of the document, shared by both
sides). `domain_document_check` holds a compiled document against that contract before it is published, so
a value the edge could not serve is refused at the console, with the rule, on every path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import FOLLOW_HOST, FOLLOW_ORIGIN, Domain, DomainStatus, Origin, OriginType
from domains.selectors import settings_of
from edge_agent import contract


@dataclass(frozen=True)
class EffectiveSni:
    """The SNI an edge sends to one origin, and why."""

    name: str | None
    source: str  # "origin" | "origin_address" | "origin_host" | "domain" | "oss" | "none"


def effective_sni(*, origin: Origin, sni_enabled: bool, sni_name: str, origin_host: str) -> EffectiveSni:
    """The SNI an edge sends to `origin`: a per-origin value beats the domain's Origin SNI."""
    if origin.sni_host == FOLLOW_ORIGIN:
        if origin.type in (OriginType.DOMAIN, OriginType.OSS):
            return EffectiveSni(origin.address, "origin_address")
    elif origin.sni_host == FOLLOW_HOST:
        return EffectiveSni(origin_host, "origin_host")
    elif origin.sni_host:
        return EffectiveSni(origin.sni_host, "origin")
    if sni_enabled and sni_name:
        return EffectiveSni(sni_name, "domain")
    if origin.type == OriginType.OSS:
        # An OSS endpoint's certificate names the bucket host, which the edge sends by itself.
        return EffectiveSni(origin.address, "oss")
    return EffectiveSni(None, "none")


def compile_domain_config(domain: Domain, *, revision: int) -> contract.Document:
    if domain.deleted_at is not None:
        return contract.Tombstone(domain=domain.name, revision=revision)
    settings = settings_of(domain)
    origin_host = settings.effective_origin_host
    origins = []
    for origin in domain.origins.all():
        if not origin.enabled:
            continue
        sni = effective_sni(
            origin=origin,
            sni_enabled=settings.sni_enabled,
            sni_name=settings.sni_name,
            origin_host=origin_host,
        )
        origins.append(
            contract.Origin(
                type=origin.type,
                address=origin.address,
                port=origin.port,
                priority=origin.priority,
                weight=origin.weight,
                sni=sni.name,
                sni_source=sni.source,
            )
        )
    return contract.DomainDocument(
        domain=domain.name,
        revision=revision,
        product=domain.product,
        enabled=domain.status != DomainStatus.OFFLINE,
        origins=tuple(origins),
        forward_scheme=contract.ForwardScheme(
            policy=settings.forward_scheme, http_port=settings.http_port, https_port=settings.https_port
        ),
        origin_host=origin_host,
        origin_sni=contract.OriginSni(enabled=settings.sni_enabled, name=settings.sni_name),
        verify_origin=contract.VerifyOrigin(
            enabled=settings.verify_origin_cert, common_names=tuple(settings.verify_common_names)
        ),
    )


UNSERVABLE = _("The edge nodes cannot serve this configuration of %(domain)s: %(field)s %(rule)s.")


def domain_document_check(document: dict[str, Any]) -> None:
    """Hold a compiled document against the wire contract, as every agent will on receipt.

    The console's own rules refuse bad input first, each with its message; this is the last guard, for a
    combination of valid values that the edge still could not serve. ValidationError names the field and
    the rule, and only this domain's own values.
    """
    try:
        contract.parse(document)
    except contract.ContractError as exc:
        raise ValidationError(
            UNSERVABLE,
            code="unservable",
            params={"domain": document.get("domain", ""), "field": exc.field, "rule": exc.rule},
        ) from None


def same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two documents configure the same thing (revision numbers aside)."""
    return {k: v for k, v in a.items() if k != "revision"} == {k: v for k, v in b.items() if k != "revision"}
