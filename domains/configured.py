"""Functions configured on domains, as the vendor keeps them (`domains.models.ConfiguredFunction`).

A function is one of the vendor's names for a group of back-to-origin settings (`https_origin_sni` is Origin
SNI, `forward_scheme` the origin protocol policy, `set_req_host_header` the origin host,
`origin_certificate_verification` the origin certificate check, `origin_sni` one origin's own SNI).

What "configured" means, whatever the entry point (page, REST, Alibaba-compatible API, admin): a function is
configured once its settings are saved through their service, even with the default values (turning Origin
SNI off on the page leaves `https_origin_sni` configured, with `enabled` off, as the vendor's console does,
which writes through the same API). It stays configured, with the same ConfigId, until it is deleted
(DeleteSpecificConfig, BatchDeleteCdnDomainConfig), which resets its settings to the defaults. Settings a
domain gets when it is added (the protocol that its origins' ports imply) configure nothing. One origin's SNI
is configured while it is set: clearing it (back to the domain's Origin SNI) deletes that configuration, since
`origin_sni` has no "off" value, and removing the origin deletes it too. A rollback configures the functions
whose settings it changes, and each origin's SNI configuration follows the restored value.

These functions run inside the caller's transaction, with the domains' rows locked.
"""

from __future__ import annotations

from collections.abc import Sequence

from domains.models import ConfiguredFunction, Domain, Origin

HTTPS_ORIGIN_SNI = "https_origin_sni"
FORWARD_SCHEME = "forward_scheme"
SET_REQ_HOST_HEADER = "set_req_host_header"
ORIGIN_CERTIFICATE_VERIFICATION = "origin_certificate_verification"
ORIGIN_SNI = "origin_sni"
# The back-to-origin settings (`OriginFetchSettings` fields) of each domain-wide function.
FUNCTION_FIELDS = {
    HTTPS_ORIGIN_SNI: ("sni_enabled", "sni_name"),
    FORWARD_SCHEME: ("forward_scheme", "http_port", "https_port"),
    SET_REQ_HOST_HEADER: ("origin_host",),
    ORIGIN_CERTIFICATE_VERIFICATION: ("verify_origin_cert", "verify_common_names"),
}


def functions_configure(*, domains: Sequence[Domain], function: str) -> dict[int, int]:
    """Mark a domain-wide function configured on each domain; return each domain's ConfigId.

    A domain that had it keeps its row (and ConfigId); the others get one. One statement when every domain
    had it, two otherwise, for any number of domains; the caller holds the domains' rows locked, so no other
    transaction adds the same row meanwhile.
    """
    pks = [domain.pk for domain in domains]
    ids = dict(
        ConfiguredFunction.objects.filter(
            domain_id__in=pks, function=function, origin__isnull=True
        ).values_list("domain_id", "id")
    )
    missing = [ConfiguredFunction(domain_id=pk, function=function) for pk in pks if pk not in ids]
    if missing:
        ids |= {row.domain_id: row.pk for row in ConfiguredFunction.objects.bulk_create(missing)}
    return ids


def origin_function_mark(*, origin: Origin, configured: bool, function: str = ORIGIN_SNI) -> int | None:
    """Mark a per-origin function configured on `origin` (returns its ConfigId, kept if it had one), or not
    (its configuration is deleted; returns None)."""
    if not configured:
        ConfiguredFunction.objects.filter(function=function, origin=origin).delete()
        return None
    row, _ = ConfiguredFunction.objects.get_or_create(
        function=function, origin=origin, defaults={"domain_id": origin.domain_id}
    )
    return row.pk


def function_unconfigure(*, domain: Domain, function: str, origin: Origin | None = None) -> None:
    """Delete a configured function (one origin's, with `origin`); its ConfigId is gone for good."""
    rows = ConfiguredFunction.objects.filter(domain=domain, function=function)
    (rows.filter(origin=origin) if origin is not None else rows.filter(origin__isnull=True)).delete()


def origin_functions_sync(*, domain: Domain) -> None:
    """Make each origin's SNI configuration follow its value: present while set, absent while empty."""
    origins = list(domain.origins.all())
    ConfiguredFunction.objects.filter(
        domain=domain, function=ORIGIN_SNI, origin__in=[o for o in origins if not o.sni_host]
    ).delete()
    ConfiguredFunction.objects.bulk_create(
        [
            ConfiguredFunction(domain=domain, function=ORIGIN_SNI, origin=origin)
            for origin in origins
            if origin.sni_host
        ],
        ignore_conflicts=True,
    )
