"""The SNI of one origin: a name of its own, its address, the origin host, or the domain's Origin SNI."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import ChangeContext, operation_log_write
from domains import configured
from domains.models import Origin
from domains.publishing import domain_config_publish
from origin_fetch.services import SettingsChange, locked_settings
from origin_fetch.validators import validate_origin_sni_host


def origin_sni_host_update(*, origin: Origin, sni_host: str, context: ChangeContext) -> SettingsChange:
    """Set one origin's own SNI (a name, ali_follow_origin or ali_follow_host; empty: the domain's)."""
    with transaction.atomic():
        locked, settings = locked_settings(origin.domain)
        # The origin as loaded with the locked domain: the document is compiled from these very rows.
        row = next((o for o in locked.origins.all() if o.pk == origin.pk), None)
        if row is None:
            raise Origin.DoesNotExist(f"Origin {origin.pk} is not an origin of {locked.name}.")
        value = validate_origin_sni_host(
            sni_host, origin_type=row.type, origin_host=settings.effective_origin_host
        )
        config_id = configured.origin_function_mark(origin=row, configured=bool(value))
        if value == row.sni_host:
            return SettingsChange(settings=settings, changed=False, revision=None, config_id=config_id)
        before = {"origin": row.address, "sni_host": row.sni_host}
        row.sni_host = value
        row.save(update_fields=["sni_host"])
        origin.sni_host = value
        summary = f"SNI of origin {row.address}: {value or 'domain default'}"
        revision = domain_config_publish(domain=locked, context=context, summary=summary)
        operation_log_write(
            context=context,
            account=locked.account,
            domain=locked,
            action="origin_sni_host.update",
            before=before,
            after={"origin": row.address, "sni_host": value},
            revision=revision.number if revision else None,
        )
    return SettingsChange(settings=settings, changed=True, revision=revision, config_id=config_id)
