"""The domain config document: what an edge node needs to fetch from a domain's origins.

`compile_domain_config` is the one function that turns the models into the document; the agent reads
nothing else. The document is a typed dataclass; `as_dict()` is its wire form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from domains.models import FOLLOW_HOST, FOLLOW_ORIGIN, Domain, DomainStatus, Origin, OriginType
from domains.selectors import settings_of

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EffectiveSni:
    """The SNI an edge sends to one origin, and why."""

    name: str | None
    source: str  # "origin" | "origin_address" | "origin_host" | "domain" | "oss" | "none"


@dataclass(frozen=True)
class OriginDoc:
    type: str
    address: str
    port: int
    priority: int
    weight: int
    sni: str | None
    sni_source: str


@dataclass(frozen=True)
class ForwardScheme:
    policy: str
    http_port: int
    https_port: int


@dataclass(frozen=True)
class OriginSniDoc:
    enabled: bool
    name: str


@dataclass(frozen=True)
class VerifyOriginDoc:
    enabled: bool
    common_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DomainConfig:
    domain: str
    revision: int
    product: str
    enabled: bool
    origins: list[OriginDoc]
    forward_scheme: ForwardScheme
    origin_host: str
    origin_sni: OriginSniDoc
    verify_origin: VerifyOriginDoc
    schema: int = SCHEMA_VERSION

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


@dataclass(frozen=True)
class Tombstone:
    """What a deleted domain becomes: the edge drops it, and no older revision can bring it back."""

    domain: str
    revision: int
    deleted: bool = True
    schema: int = SCHEMA_VERSION

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compile_domain_config(domain: Domain, *, revision: int) -> DomainConfig | Tombstone:
    if domain.deleted_at is not None:
        return Tombstone(domain=domain.name, revision=revision)
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
            OriginDoc(
                type=origin.type,
                address=origin.address,
                port=origin.port,
                priority=origin.priority,
                weight=origin.weight,
                sni=sni.name,
                sni_source=sni.source,
            )
        )
    return DomainConfig(
        domain=domain.name,
        revision=revision,
        product=domain.product,
        enabled=domain.status != DomainStatus.OFFLINE,
        origins=origins,
        forward_scheme=ForwardScheme(
            policy=settings.forward_scheme, http_port=settings.http_port, https_port=settings.https_port
        ),
        origin_host=origin_host,
        origin_sni=OriginSniDoc(enabled=settings.sni_enabled, name=settings.sni_name),
        verify_origin=VerifyOriginDoc(
            enabled=settings.verify_origin_cert, common_names=list(settings.verify_common_names)
        ),
    )


def same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two documents configure the same thing (revision numbers aside)."""
    return {k: v for k, v in a.items() if k != "revision"} == {k: v for k, v in b.items() if k != "revision"}
