"""Reads of the account pages: the operation log (shared with the REST API), members, AccessKeys."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Case, Field, IntegerField, Model, QuerySet, Value, When
from django.http import Http404
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from alibaba_api.models import AccessKey
from console.models import Membership, OperationLog, Role
from domains.models import Domain, Origin
from domains.selectors import membership_for
from origin_fetch.models import OriginFetchSettings

ACTION_LABELS = {
    "domain.create": _("Add domain name"),
    "domain.enable": _("Enable domain name"),
    "domain.disable": _("Disable domain name"),
    "domain.delete": _("Delete domain name"),
    "domain.rollback": _("Roll back configuration"),
    "origin.add": _("Add origin"),
    "origin.update": _("Modify origin"),
    "origin.remove": _("Remove origin"),
    "origin_sni.update": _("Modify Origin SNI"),
    "origin_sni_host.update": _("Modify SNI of an origin"),
    "origin_protocol.update": _("Modify origin protocol policy"),
    "origin_host.update": _("Modify origin host"),
    "origin_verification.update": _("Modify origin certificate verification"),
    "access_key.create": _("Create AccessKey"),
    "access_key.enable": _("Enable AccessKey"),
    "access_key.disable": _("Disable AccessKey"),
    "access_key.delete": _("Delete AccessKey"),
    "membership.add": _("Add user"),
    "membership.role_change": _("Change role"),
    "membership.remove": _("Remove user"),
}


def operations_for_user(
    user: AbstractBaseUser,
    *,
    domain: str = "",
    actor: str = "",
    action: str = "",
    source: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[OperationLog]:
    """The operation log of the user's account, newest first, with the given filters.

    The console's Operation Log page, a domain's Operation Log tab and the REST API all read through here.
    """
    membership = membership_for(user)
    if membership is None:
        return OperationLog.objects.none()
    entries = OperationLog.objects.filter(account_id=membership.account_id)
    if domain:
        entries = entries.filter(domain_name=domain.strip().lower().rstrip("."))
    if actor:
        entries = entries.filter(actor_name=actor.strip())
    if action:
        entries = entries.filter(action=action)
    if source:
        entries = entries.filter(source=source)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.order_by("-created_at", "-id")


@dataclass(frozen=True)
class Change:
    """One changed value of an operation log entry, as a person reads it: `label` in the reader's language,
    `field` the stored key it came from (`origins[1.2.3.4].port`)."""

    field: str
    label: str
    before: str
    after: str


# The containers of nested values in an entry (`settings.sni_name`, `origins[1.2.3.4].port`) and the models
# whose fields name their keys; a key at the top level is looked up in these models in this order.
_CONTAINERS: dict[str, type[Model]] = {"settings": OriginFetchSettings, "origins": Origin}
_TOP_LEVEL: tuple[type[Model], ...] = (OriginFetchSettings, Domain, Origin)
_OTHER_KEYS = {
    "origin": _("origin"),
    "user": _("user"),
    "access_key_id": _("AccessKey ID"),
    "rolled_back_to": _("rolled back to revision"),
}
_PATH = re.compile(r"^(?:(?P<container>\w+)(?:\[(?P<item>[^\]]*)\])?\.)?(?P<key>\w+)$")


def _model_field(models: tuple[type[Model], ...], key: str) -> Field | None:
    for model in models:
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            continue
        if isinstance(field, Field):  # not a reverse relation (`origins` of a domain), which has no label
            return field
    return None


def _describe(path: str) -> tuple[str, dict[str, str]]:
    """The label of a stored key, and the labels of its stored values where the field has choices."""
    match = _PATH.match(path)
    if match is None:
        return path, {}
    container, item, key = match["container"], match["item"], match["key"]
    if container is None:
        field = _model_field(((Membership,) if key == "role" else ()) + _TOP_LEVEL, key)
        if field is None and key in _OTHER_KEYS:
            return capfirst(str(_OTHER_KEYS[key])), {}
    else:
        field = _model_field((_CONTAINERS[container],), key) if container in _CONTAINERS else None
    if field is None:
        return path, {}
    label = capfirst(str(field.verbose_name))
    if container == "origins":
        label = str(_("Origin %(address)s · %(field)s") % {"address": item, "field": label})
    return label, {str(value): str(text) for value, text in field.flatchoices}


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        items: dict[str, str] = {}
        for key, item in value.items():
            items |= _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = {}
        for index, item in enumerate(value):
            items |= _flatten(item, f"{prefix}[{item.get('address', index + 1)}]")
        return items
    if isinstance(value, list):
        return {prefix: ", ".join(map(str, value)) or "—"}
    if value is None or value == "":
        return {prefix: "—"}
    if isinstance(value, bool):
        return {prefix: str(_("on") if value else _("off"))}
    if isinstance(value, str | int | float):
        return {prefix: str(value)}
    return {prefix: json.dumps(value, sort_keys=True)}


def operation_changes(entry: OperationLog) -> list[Change]:
    """The entry's before → after, one row per changed value (unchanged values are left out), each named by
    its field's label and each value of a field with choices by the choice's label, in the active language.
    A key that no model names (an entry written by an older version) is shown as it is stored."""
    before, after = _flatten(entry.before or {}), _flatten(entry.after or {})
    changes = []
    for field in sorted(set(before) | set(after), key=lambda f: (f not in before, f)):
        old, new = before.get(field, "—"), after.get(field, "—")
        if old == new:
            continue
        label, choices = _describe(field)
        changes.append(Change(field, label, choices.get(old, old), choices.get(new, new)))
    return changes


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def operation_subject(entry: OperationLog) -> str:
    """What a change was about (an AccessKey ID, a user, an origin), shown next to the action."""
    values = (entry.after or {}) | (entry.before or {})
    if entry.action.startswith("access_key."):
        return str(values.get("access_key_id", ""))
    if entry.action.startswith("membership."):
        return str(values.get("user", ""))
    if entry.action.startswith("origin."):
        return str(values.get("address", ""))
    if entry.action.startswith("origin_sni_host."):
        return str(values.get("origin", ""))
    return ""


# Team


def members_of_account(user: AbstractBaseUser) -> QuerySet[Membership]:
    """The members of the user's account, owners first."""
    membership = membership_for(user)
    if membership is None:
        return Membership.objects.none()
    order = {Role.OWNER: 0, Role.ADMIN: 1, Role.VIEWER: 2}
    rank = Case(*(When(role=r, then=Value(n)) for r, n in order.items()), output_field=IntegerField())
    return (
        Membership.objects.filter(account_id=membership.account_id)
        .select_related("user")
        .order_by(rank, "user__username")
    )


def get_member_for_owner(user: AbstractBaseUser, *, member_id: int) -> Membership:
    """A member of the user's account, for a change: 404 for another account's, 403 for a non-owner."""
    member = members_of_account(user).filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member.")
    require_owner(user)
    return member


def require_owner(user: AbstractBaseUser) -> Membership:
    membership = membership_for(user)
    if membership is None or membership.role != Role.OWNER:
        raise PermissionDenied("Only the account's owners may change its team.")
    return membership


# AccessKeys


def access_keys_for_user(user: AbstractBaseUser) -> QuerySet[AccessKey]:
    """The user's own AccessKeys in their account, newest first; nobody sees another user's keys."""
    membership = membership_for(user)
    if membership is None:
        return AccessKey.objects.none()
    return AccessKey.objects.filter(user=user, account_id=membership.account_id).order_by(
        "-created_at", "-id"
    )


def get_access_key_for_user(user: AbstractBaseUser, *, access_key_id: str) -> AccessKey:
    """One of the user's own keys, or 404: another user's key is indistinguishable from none."""
    key = (
        access_keys_for_user(user)
        .filter(access_key_id=access_key_id)
        .select_related("user", "account")
        .first()
    )
    if key is None:
        raise Http404("No such AccessKey.")
    return key
