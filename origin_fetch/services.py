"""Writes to back-to-origin settings. Every entry point (page, REST, OpenAPI, admin) calls these."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, OperationEntry, operation_log_write_many
from domains import configured
from domains.models import FOLLOW_HOST, Domain, Origin, OriginFetchSettings
from domains.publishing import domain_config_publish_many
from edge.models import ConfigRevision
from edge.publish import latest_document
from origin_fetch.validators import (
    validate_no_common_names,
    validate_origin_host,
    validate_origin_host_choice,
    validate_origin_sni,
    validate_protocol,
    validate_protocol_change,
)


class StaleVersionError(ValidationError):
    """The settings changed since the caller read them; saving would overwrite someone else's change."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed these settings while you were editing them. "
                "Close the dialog and open it again to see the current values."
            ),
            code="stale",
        )


class DomainValidationError(ValidationError):
    """A batch was refused because of one domain: `domain` is that domain, `error` the error it got.

    Its messages and fields are the error's own, so it reads like the single-domain error; nothing of
    the batch was saved.
    """

    def __init__(self, domain: Domain, error: ValidationError) -> None:
        super().__init__(error.error_dict if hasattr(error, "error_dict") else error.error_list)
        self.domain = domain
        self.error = error


@dataclass(frozen=True)
class SettingsChange:
    settings: OriginFetchSettings
    changed: bool
    revision: ConfigRevision | None
    # The ConfigId of the function the change configured (`domains.configured`).
    config_id: int | None = None


def _has_settings(domain: Domain) -> bool:
    try:
        domain.origin_fetch  # noqa: B018 - loaded with the domain
    except OriginFetchSettings.DoesNotExist:
        return False
    return True


def locked_settings(domain: Domain) -> tuple[Domain, OriginFetchSettings]:
    """Lock the domain's row and load its settings (written with the defaults if it had none)."""
    locked, settings = _locked_settings_many([domain])
    return locked[0], settings[domain.pk]


def _locked_settings_many(domains: Sequence[Domain]) -> tuple[list[Domain], dict[int, OriginFetchSettings]]:
    """Lock the domains' rows in id order (so concurrent batches never deadlock) and load their settings,
    in one statement, and their origins (read once: for the rules and the compiled document); create the
    settings a domain lacks. Returns the locked rows in the order given."""
    pks = sorted({domain.pk for domain in domains})
    rows = {
        row.pk: row
        for row in Domain.objects.select_for_update(of=("self",))
        .select_related("origin_fetch")
        .prefetch_related("origins")
        .annotate(latest_document=latest_document())
        .filter(pk__in=pks)
        .order_by("pk")
    }
    for domain in domains:
        if domain.pk not in rows:
            raise Domain.DoesNotExist(f"Domain {domain.pk} does not exist.")
    missing = [OriginFetchSettings(domain=row) for row in rows.values() if not _has_settings(row)]
    if missing:
        OriginFetchSettings.objects.bulk_create(missing)
        for row in missing:
            rows[row.domain_id].origin_fetch = row  # the instance compiled into the config document
    settings = {pk: row.origin_fetch for pk, row in rows.items()}
    return [rows[domain.pk] for domain in domains], settings


def settings_save(changes: list[tuple[OriginFetchSettings, dict[str, Any]]]) -> None:
    """Save validated new values of locked settings rows, each a new version.

    One UPDATE per distinct set of new values: one for a batch that sets the same thing everywhere.
    """
    now = timezone.now()
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for row, new in changes:
        for field, value in new.items():
            setattr(row, field, value)
        row.version += 1
        row.modified_at = now
        key = json.dumps(new, sort_keys=True, default=str)
        groups.setdefault(key, (new, []))[1].append(row.domain_id)
    for values, pks in groups.values():
        OriginFetchSettings.objects.filter(domain_id__in=pks).update(
            **values, version=F("version") + 1, modified_at=now
        )


def _ports(domain: Domain) -> list[int]:
    """The ports of a locked domain's enabled origins (loaded with the lock)."""
    return [origin.port for origin in domain.origins.all() if origin.enabled]


def enabled_origin_ports(domains: Sequence[Domain]) -> dict[int, list[int]]:
    """The ports of each domain's enabled origins (what Origin SNI needs with the protocol policy off)."""
    ports: dict[int, list[int]] = {domain.pk: [] for domain in domains}
    rows = Origin.objects.filter(domain__in=domains, enabled=True).values_list("domain_id", "port")
    for domain_id, port in rows:
        ports[domain_id].append(port)
    return ports


def _settings_update_many(
    *,
    domains: Sequence[Domain],
    context: ChangeContext,
    expected_versions: dict[int, int] | None,
    action: str,
    function: str,
    clean: Callable[[Domain, OriginFetchSettings], dict[str, Any]],
    summary: Callable[[dict[str, Any]], str],
) -> list[SettingsChange]:
    """The one write path of back-to-origin settings, for any number of domains at once.

    Locks the domains, refuses a stale expected version, and lets `clean` validate each domain against its
    current settings (it returns the new field values or raises ValidationError). Every domain is validated
    before anything is written: one invalid domain raises DomainValidationError naming it, and nothing is
    saved. Then the changed settings are saved, their config revisions published and the operation log
    written, in a fixed number of statements whatever the number of domains; delivery of all of them is
    enqueued once, after commit. Returns one SettingsChange per domain, in the order given. Each domain has
    `function` configured (`domains.configured`) from then on, changed or not.
    """
    if len({domain.pk for domain in domains}) != len(domains):
        raise ValueError("Each domain can be given only once.")
    with transaction.atomic():
        locked, settings_by_pk = _locked_settings_many(domains)
        plans: list[tuple[Domain, OriginFetchSettings, dict[str, Any], dict[str, Any]]] = []
        for domain, row in zip(locked, (settings_by_pk[domain.pk] for domain in locked), strict=True):
            try:
                expected = (expected_versions or {}).get(domain.pk)
                if expected is not None and expected != row.version:
                    raise StaleVersionError()
                new = clean(domain, row)
            except ValidationError as exc:
                raise DomainValidationError(domain, exc) from None
            plans.append((domain, row, {field: getattr(row, field) for field in new}, new))

        config_ids = configured.functions_configure(domains=locked, function=function)
        written = [(domain, row, before, new) for domain, row, before, new in plans if before != new]
        revisions: dict[int, ConfigRevision | None] = {}
        if written:
            settings_save([(row, new) for _, row, _, new in written])
            revisions = domain_config_publish_many(
                domains=[domain for domain, *_ in written],
                context=context,
                summaries={domain.pk: summary(new) for domain, _, _, new in written},
            )
            operation_log_write_many(
                context=context,
                entries=[
                    OperationEntry(
                        account_id=domain.account_id,
                        action=action,
                        domain=domain,
                        before=before,
                        after=new,
                        revision=revision.number if (revision := revisions[domain.pk]) else None,
                    )
                    for domain, _, before, new in written
                ],
            )
    for original, domain in zip(domains, locked, strict=True):
        original.status, original.config_revision = domain.status, domain.config_revision
    return [
        SettingsChange(row, before != new, revisions.get(domain.pk), config_ids[domain.pk])
        for domain, row, before, new in plans
    ]


def origin_sni_update(
    *,
    domain: Domain,
    enabled: bool,
    name: str,
    context: ChangeContext,
    expected_version: int | None = None,
) -> SettingsChange:
    """Turn Origin SNI on or off and set its name (kept when turned off).

    Validates with the shared rules, saves, logs the operation, and publishes a new config revision when
    anything changed; delivery is enqueued after commit. Raises ValidationError (nothing saved) on bad input
    or a stale `expected_version`.
    """
    return _one(
        origin_sni_update_many,
        domain,
        expected_version,
        enabled=enabled,
        name=name,
        context=context,
    )


def origin_sni_update_many(
    *,
    domains: Sequence[Domain],
    enabled: bool,
    name: str,
    context: ChangeContext,
    expected_versions: dict[int, int] | None = None,
) -> list[SettingsChange]:
    """`origin_sni_update` of several domains at once: all of them, or none (DomainValidationError)."""

    def clean(domain: Domain, settings: OriginFetchSettings) -> dict[str, Any]:
        normalized = validate_origin_sni(
            enabled=enabled,
            name=name,
            policy=settings.forward_scheme,
            https_port=settings.https_port,
            policy_enabled=settings.forward_scheme_enabled,
            origin_ports=_ports(domain),
        )
        # Turning SNI off with an empty field keeps the name that was there.
        return {"sni_enabled": enabled, "sni_name": normalized or (settings.sni_name if not enabled else "")}

    return _settings_update_many(
        domains=domains,
        context=context,
        expected_versions=expected_versions,
        action="origin_sni.update",
        function=configured.HTTPS_ORIGIN_SNI,
        clean=clean,
        summary=lambda new: (
            f"Origin SNI {'on' if new['sni_enabled'] else 'off'}"
            + (f": {new['sni_name']}" if new["sni_name"] else "")
        ),
    )


def origin_protocol_update(
    *,
    domain: Domain,
    policy: str,
    http_port: int,
    https_port: int,
    context: ChangeContext,
    enabled: bool = True,
    expected_version: int | None = None,
) -> SettingsChange:
    """Set the origin protocol policy and ports, or turn the policy off (`enabled`: each origin's own port
    decides; the policy and ports are kept). Refused if it would break an enabled Origin SNI."""
    return _one(
        origin_protocol_update_many,
        domain,
        expected_version,
        enabled=enabled,
        policy=policy,
        http_port=http_port,
        https_port=https_port,
        context=context,
    )


def origin_protocol_update_many(
    *,
    domains: Sequence[Domain],
    policy: str | None,
    http_port: int | None,
    https_port: int | None,
    context: ChangeContext,
    enabled: bool = True,
    expected_versions: dict[int, int] | None = None,
) -> list[SettingsChange]:
    """`origin_protocol_update` of several domains at once; a policy or port given as None keeps each
    domain's own."""

    def clean(domain: Domain, settings: OriginFetchSettings) -> dict[str, Any]:
        new = validate_protocol(
            enabled=enabled,
            policy=settings.forward_scheme if policy is None else policy,
            http_port=settings.http_port if http_port is None else http_port,
            https_port=settings.https_port if https_port is None else https_port,
        )
        validate_protocol_change(
            sni_enabled=settings.sni_enabled,
            policy=new["forward_scheme"],  # type: ignore[arg-type]
            https_port=new["https_port"],  # type: ignore[arg-type]
            policy_enabled=enabled,
            origin_ports=_ports(domain),
        )
        return new

    return _settings_update_many(
        domains=domains,
        context=context,
        expected_versions=expected_versions,
        action="origin_protocol.update",
        function=configured.FORWARD_SCHEME,
        clean=clean,
        summary=lambda new: (
            f"Origin protocol {new['forward_scheme']} (HTTP {new['http_port']}, HTTPS {new['https_port']})"
            if new["forward_scheme_enabled"]
            else "Origin protocol policy off (each origin's own port)"
        ),
    )


def origin_host_update(
    *,
    domain: Domain,
    host: str,
    context: ChangeContext,
    host_type: str | None = None,
    expected_version: int | None = None,
) -> SettingsChange:
    """Set the Host header sent to origins; empty means the accelerated domain itself. With `host_type`
    (`validators.HOST_TYPES`), the host is the accelerated domain, one of its origins' domain, or `host`."""
    return _one(
        origin_host_update_many, domain, expected_version, host=host, host_type=host_type, context=context
    )


def domains_following_host(domains: Sequence[Domain]) -> set[int]:
    """Ids of the domains with an origin whose SNI follows the origin host (one query for all of them)."""
    return set(
        Origin.objects.filter(domain__in=domains, sni_host=FOLLOW_HOST).values_list("domain_id", flat=True)
    )


def origin_host_update_many(
    *,
    domains: Sequence[Domain],
    host: str,
    context: ChangeContext,
    host_type: str | None = None,
    expected_versions: dict[int, int] | None = None,
) -> list[SettingsChange]:
    """`origin_host_update` of several domains at once."""
    followed = domains_following_host(domains)

    def clean(domain: Domain, settings: OriginFetchSettings) -> dict[str, Any]:
        value = host
        if host_type is not None:
            value = validate_origin_host_choice(
                host_type=host_type, host=host, domain_name=domain.name, origins=domain.origins.all()
            )
        value = validate_origin_host(value, domain_name=domain.name, followed=domain.pk in followed)
        return {"origin_host": value}

    return _settings_update_many(
        domains=domains,
        context=context,
        expected_versions=expected_versions,
        action="origin_host.update",
        function=configured.SET_REQ_HOST_HEADER,
        clean=clean,
        summary=lambda new: f"Origin host {new['origin_host'] or 'default (the domain)'}",
    )


def origin_verification_update(
    *,
    domain: Domain,
    enabled: bool,
    context: ChangeContext,
    common_names: Sequence[str] | str = (),
    expected_version: int | None = None,
) -> SettingsChange:
    """Turn origin certificate verification on or off. The certificate is checked against the SNI sent to
    each origin; extra acceptable `common_names` are refused (the edge cannot honour them)."""
    return _one(
        origin_verification_update_many,
        domain,
        expected_version,
        enabled=enabled,
        common_names=common_names,
        context=context,
    )


def origin_verification_update_many(
    *,
    domains: Sequence[Domain],
    enabled: bool,
    context: ChangeContext,
    common_names: Sequence[str] | str = (),
    expected_versions: dict[int, int] | None = None,
) -> list[SettingsChange]:
    """`origin_verification_update` of several domains at once."""

    def clean(domain: Domain, settings: OriginFetchSettings) -> dict[str, Any]:
        validate_no_common_names(common_names)
        return {"verify_origin_cert": enabled}

    return _settings_update_many(
        domains=domains,
        context=context,
        expected_versions=expected_versions,
        action="origin_verification.update",
        function=configured.ORIGIN_CERTIFICATE_VERIFICATION,
        clean=clean,
        summary=lambda new: f"Origin certificate verification {'on' if new['verify_origin_cert'] else 'off'}",
    )


def _one(
    update_many: Callable[..., list[SettingsChange]],
    domain: Domain,
    expected_version: int | None,
    **arguments: Any,
) -> SettingsChange:
    """A single-domain update is a batch of one; its error is the domain's own ValidationError."""
    expected = {domain.pk: expected_version} if expected_version is not None else None
    try:
        return update_many(domains=[domain], expected_versions=expected, **arguments)[0]
    except DomainValidationError as exc:
        raise exc.error from None
