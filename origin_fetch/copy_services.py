"""Copy Configuration: a domain's back-to-origin settings copied to other domains of the same account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext
from domains import configured
from domains.models import Domain, OriginFetchSettings
from origin_fetch.services import SettingsChange, _ports, _settings_update_many, domains_following_host
from origin_fetch.validators import settings_clean, validate_origin_host

# What is copied: the domain-wide back-to-origin settings. Origins, and each origin's own SNI, belong to the
# target domain and stay as they are.
COPIED_FIELDS = OriginFetchSettings.VALUE_FIELDS


def origin_fetch_settings_copy(
    *, source: Domain, targets: Sequence[Domain], context: ChangeContext
) -> list[SettingsChange]:
    """Give each target the back-to-origin settings of `source` (protocol policy and ports, origin host,
    Origin SNI, origin certificate verification), each checked by the rules of the target's own origins.

    All the targets or none: one that the rules refuse raises DomainValidationError naming it. Each target
    gets one revision (none when it already had these settings) and one operation log entry.
    """
    if not targets:
        raise ValidationError(_("Choose at least one domain to copy the configuration to."), code="required")
    if any(target.account_id != source.account_id for target in targets):
        raise ValueError("Configuration is copied only between domains of one account.")
    if any(target.pk == source.pk for target in targets):
        raise ValidationError(_("A domain cannot be copied onto itself."), code="self")
    # As saved now (the caller's instance may be older), or the defaults when none were ever saved.
    saved = OriginFetchSettings.objects.filter(domain=source).first() or OriginFetchSettings(domain=source)
    values = {field: getattr(saved, field) for field in COPIED_FIELDS}
    followed = domains_following_host(targets)

    def clean(domain: Domain, settings: OriginFetchSettings) -> dict[str, Any]:
        new = settings_clean(values, origin_ports=_ports(domain))
        validate_origin_host(new["origin_host"], domain_name=domain.name, followed=domain.pk in followed)
        return new

    with transaction.atomic():
        changes = _settings_update_many(
            domains=targets,
            context=context,
            expected_versions=None,
            action="origin_fetch.copy",
            function=configured.FORWARD_SCHEME,
            clean=clean,
            summary=lambda new: f"Configuration copied from {source.name}",
        )
        # Every function whose settings were copied is configured on the targets, as a save of each would.
        for function in configured.FUNCTION_FIELDS:
            if function != configured.FORWARD_SCHEME:
                configured.functions_configure(domains=targets, function=function)
    return changes
