"""The domain config document: what an edge node needs to fetch from a domain's origins.

`compile_domain_config` is the one function that turns the models into the document, an instance of the wire
contract that the agents apply (`edge_agent.contract`: the one definition of the document, shared by both
sides). `domain_document_check` holds a compiled document against that contract before it is published, so
a value the edge could not serve is refused at the console, with the rule, on every path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import (
    FOLLOW_HOST,
    FOLLOW_ORIGIN,
    Domain,
    DomainStatus,
    Origin,
    OriginFetchSettings,
    OriginType,
    ProtocolPolicy,
)
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


SNI_PORT = 443


@dataclass(frozen=True)
class Fetch:
    """How an edge fetches from one origin: each (scheme, port) it may use, and why.

    `source`: "policy_http" / "policy_https" (the origin protocol policy's port for its scheme),
    "policy_follow" (the policy's port for the client's scheme: two fetches) or "origin_port" (no policy: the
    origin's own).
    """

    fetches: tuple[tuple[str, int], ...]
    source: str

    @property
    def uses_https(self) -> bool:
        """Whether any fetch is over HTTPS: over HTTP alone, no TLS handshake, hence no SNI."""
        return any(scheme == "https" for scheme, _port in self.fetches)

    @property
    def sends_sni(self) -> bool:
        """Whether any fetch is HTTPS on port 443, where Origin SNI applies (SPEC.md §4.4 rule 6)."""
        return ("https", SNI_PORT) in self.fetches


def forward_scheme_of(settings: OriginFetchSettings) -> contract.ForwardScheme:
    return contract.ForwardScheme(
        policy=settings.forward_scheme,
        http_port=settings.http_port,
        https_port=settings.https_port,
        enabled=settings.forward_scheme_enabled,
    )


def fetch_of(scheme: contract.ForwardScheme, origin_port: int) -> Fetch:
    """The vendor's rule, as the edge applies it (`edge_agent.contract.ForwardScheme.fetch`): with the origin
    protocol policy on, its port for the scheme wins and the origin's own port is ignored; with it off, the
    origin's own port is used, over HTTPS when it is 443 and over HTTP otherwise."""
    if scheme.enabled and scheme.policy == ProtocolPolicy.FOLLOW:
        return Fetch((("http", scheme.http_port), ("https", scheme.https_port)), "policy_follow")
    fetched = scheme.fetch(origin_port)
    return Fetch((fetched,), f"policy_{fetched[0]}" if scheme.enabled else "origin_port")


def sni_reaches_an_origin(*, scheme: contract.ForwardScheme, origin_ports: Iterable[int]) -> bool:
    """Rule 6: Origin SNI needs back-to-origin over HTTPS on port 443. With the protocol policy on, that is
    the policy (HTTPS or follow, with HTTPS port 443), whatever the origins; with it off, at least one of the
    domain's enabled origins must be on port 443, since only those are fetched over HTTPS."""
    if scheme.enabled:
        return fetch_of(scheme, SNI_PORT).sends_sni
    return any(fetch_of(scheme, port).sends_sni for port in origin_ports)


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
        forward_scheme=forward_scheme_of(settings),
        origin_host=origin_host,
        origin_sni=contract.OriginSni(enabled=settings.sni_enabled, name=settings.sni_name),
        # No extra acceptable common names: the edge verifies against the SNI only (see the settings model).
        verify_origin=contract.VerifyOrigin(enabled=settings.verify_origin_cert),
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
