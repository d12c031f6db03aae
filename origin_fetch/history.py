"""A domain's configuration history: its revisions, what each changed, and rollback to one of them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import ChangeContext, operation_log_write
from domains import configured
from domains.models import Domain
from domains.origin_services import origins_restore
from domains.publishing import domain_config_publish, domain_snapshot
from domains.services import domain_enabled_restore
from edge.models import ConfigRevision
from origin_fetch.services import locked_settings, settings_save
from origin_fetch.validators import settings_clean, validate_origin_sni_host


class RollbackError(Exception):
    """The revision cannot be rolled back to; the message says why."""


def domain_rollback(*, domain: Domain, number: int, context: ChangeContext) -> ConfigRevision | None:
    """Restore the settings, origins and state of revision `number` and publish them as a new revision.

    The stored values go through the same rules as an edit, so a revision that today's rules refuse is not
    restored; origins that still exist keep their identity. Returns None when the current config already
    equals that revision.
    """
    with transaction.atomic():
        locked, settings = locked_settings(domain)
        target = locked.revisions.filter(number=number).first()
        if target is None or not target.snapshot:
            raise RollbackError(_("Revision %(number)s cannot be restored.") % {"number": number})
        if target.document.get("deleted"):
            raise RollbackError(_("A deleted domain cannot be restored."))
        before = domain_snapshot(locked)
        snapshot = target.snapshot
        try:
            ports = [origin["port"] for origin in snapshot["origins"] if origin.get("enabled", True)]
            values = settings_clean(snapshot["settings"], origin_ports=ports)
            origin_host = values["origin_host"] or locked.name
            origins = [
                origin
                | {
                    "sni_host": validate_origin_sni_host(
                        origin.get("sni_host", ""), origin_type=origin["type"], origin_host=origin_host
                    )
                }
                for origin in snapshot["origins"]
            ]
            origins_restore(domain=locked, origins=origins)
        except ValidationError as exc:
            raise RollbackError(
                _("Revision %(number)s cannot be restored: %(reason)s")
                % {"number": number, "reason": " ".join(exc.messages)}
            ) from None
        changed = {field for field, value in values.items() if getattr(settings, field) != value}
        if changed:
            settings_save([(settings, values)])
        # A rollback configures the functions whose settings it changed; each origin's SNI follows its value.
        for function, fields in configured.FUNCTION_FIELDS.items():
            if changed.intersection(fields):
                configured.functions_configure(domains=[locked], function=function)
        configured.origin_functions_sync(domain=locked)
        domain_enabled_restore(domain=locked, enabled=snapshot["enabled"])
        revision = domain_config_publish(
            domain=locked, context=context, summary=f"Rolled back to revision {number}"
        )
        operation_log_write(
            context=context,
            account=locked.account,
            domain=locked,
            action="domain.rollback",
            before=before,
            after=domain_snapshot(locked) | {"rolled_back_to": number},
            revision=revision.number if revision else None,
        )
    domain.status, domain.config_revision = locked.status, locked.config_revision
    return revision


def document_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Readable differences between two config documents: (path, before, after), revision numbers aside."""

    def flatten(value: Any, prefix: str = "") -> dict[str, str]:
        if isinstance(value, dict):
            items: dict[str, str] = {}
            for key, item in value.items():
                if key in ("revision", "schema") and not prefix:
                    continue
                items |= flatten(item, f"{prefix}.{key}" if prefix else key)
            return items
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            items = {}
            for index, item in enumerate(value):
                label = item.get("address", index) if isinstance(item, dict) else index
                items |= flatten(item, f"{prefix}[{label}]")
            return items
        if isinstance(value, list):
            return {prefix: ", ".join(map(str, value)) or "—"}
        return {
            prefix: "—"
            if value is None or value == ""
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        }

    before, after = flatten(old or {}), flatten(new)
    return [
        (path, before.get(path, "—"), after.get(path, "—"))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]
