"""A domain's change history as a person reads it: each revision's differences named by the field labels and
choice labels of the Operation Log, grouped by origin, and its stored summary, in the reader's language.

Revisions keep their summary as written when they were made (in English, the words of the service that
made them); it is translated when shown, by recognising each service's wording. A summary this module does
not know is shown as it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Field, Model
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.operation_log import Change
from domains.models import Domain, Origin, OriginFetchSettings, ProtocolPolicy

NONE = "—"
ON_OFF = {"true": _("on"), "false": _("off")}
SNI_SOURCES = {
    "domain": _("Origin SNI of the domain"),
    "origin": _("SNI set for this origin"),
    "origin_address": _("Follows the origin address"),
    "origin_host": _("Follows the origin host"),
    "oss": _("OSS origins need no SNI setting"),
    "none": _("No SNI is sent"),
}


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


# A config document's keys (`edge_agent.contract.DomainDocument.as_dict`): the model field that names each,
# or a label of its own, and the labels of its values.
_FieldWords = tuple[Promise | Field, dict[str, Any] | None]
DOMAIN_KEYS: dict[str, _FieldWords] = {
    "domain": (_field(Domain, "name"), None),
    "product": (_field(Domain, "product"), None),
    "enabled": (_("Status"), {"true": _("Enabled"), "false": _("Disabled")}),
    "forward_scheme.enabled": (_field(OriginFetchSettings, "forward_scheme_enabled"), ON_OFF),
    "forward_scheme.policy": (_field(OriginFetchSettings, "forward_scheme"), None),
    "forward_scheme.http_port": (_field(OriginFetchSettings, "http_port"), None),
    "forward_scheme.https_port": (_field(OriginFetchSettings, "https_port"), None),
    "origin_host": (_field(OriginFetchSettings, "origin_host"), None),
    "origin_sni.enabled": (_field(OriginFetchSettings, "sni_enabled"), ON_OFF),
    "origin_sni.name": (_field(OriginFetchSettings, "sni_name"), None),
    "verify_origin.enabled": (_field(OriginFetchSettings, "verify_origin_cert"), ON_OFF),
    "verify_origin.common_names": (_("extra acceptable common names"), None),
}
ORIGIN_KEYS: dict[str, _FieldWords] = {
    "type": (_field(Origin, "type"), None),
    "address": (_field(Origin, "address"), None),
    "port": (_field(Origin, "port"), None),
    "priority": (_field(Origin, "priority"), None),
    "weight": (_field(Origin, "weight"), None),
    "sni": (_("effective SNI"), {NONE: _("None")}),
    "sni_source": (_("why this SNI"), SNI_SOURCES),
}


@dataclass(frozen=True)
class ChangeGroup:
    """The changes of one revision about one thing: the domain (`origin` empty) or one of its origins."""

    title: str
    origin: str
    changes: list[Change]


def _flatten(document: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The document's domain-wide values by dotted key, and each origin's values by address."""
    domain: dict[str, str] = {}
    origins: dict[str, dict[str, str]] = {}

    def text(value: Any) -> str:
        if value is None or value == "" or value == []:
            return NONE
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ", ".join(map(str, value))
        return str(value)

    for key, value in (document or {}).items():
        if key in ("revision", "schema"):
            continue
        if key == "origins":
            for index, origin in enumerate(value or []):
                address = str(origin.get("address", index + 1))
                origins[address] = {name: text(item) for name, item in origin.items()}
        elif isinstance(value, dict):
            domain |= {f"{key}.{name}": text(item) for name, item in value.items()}
        else:
            domain[key] = text(value)
    return domain, origins


def _words(table: dict[str, _FieldWords], key: str) -> tuple[str, dict[str, str]]:
    if key not in table:
        return key, {}
    label, values = table[key]
    if isinstance(label, Field):
        choices = {str(value): str(text) for value, text in label.flatchoices}
        return capfirst(str(label.verbose_name)), choices | {k: str(v) for k, v in (values or {}).items()}
    return capfirst(str(label)), {k: str(v) for k, v in (values or {}).items()}


def _changes(table: dict[str, _FieldWords], before: dict[str, str], after: dict[str, str]) -> list[Change]:
    order = list(table)
    keys = sorted(set(before) | set(after), key=lambda k: (order.index(k) if k in order else len(order), k))
    changes = []
    for key in keys:
        if before.get(key) != after.get(key):
            label, choices = _words(table, key)
            # A value the document did not have (a new origin's) is a dash, never a choice's label.
            old = choices.get(before[key], before[key]) if key in before else NONE
            new = choices.get(after[key], after[key]) if key in after else NONE
            changes.append(Change(key, label, old, new))
    return changes


def history_groups(old: dict[str, Any] | None, new: dict[str, Any]) -> list[ChangeGroup]:
    """What a revision changed from the one before it: the domain's settings first, then each origin's, in
    the order of the new document (removed origins last)."""
    old_domain, old_origins = _flatten(old)
    if new.get("deleted"):  # a tombstone: the domain is gone, with everything it had
        label, values = _words(DOMAIN_KEYS, "enabled")
        before = values.get(old_domain.get("enabled", NONE), NONE)
        return [ChangeGroup(gettext("Domain"), "", [Change("enabled", label, before, gettext("Deleted"))])]
    new_domain, new_origins = _flatten(new)
    groups = []
    changes = _changes(DOMAIN_KEYS, old_domain, new_domain)
    if changes:
        groups.append(ChangeGroup(gettext("Domain"), "", changes))
    for address in list(new_origins) + [a for a in old_origins if a not in new_origins]:
        changes = _changes(ORIGIN_KEYS, old_origins.get(address, {}), new_origins.get(address, {}))
        if not changes:
            continue
        if address not in old_origins:
            title = gettext("Origin %(address)s (added)")
        elif address not in new_origins:
            title = gettext("Origin %(address)s (removed)")
        else:
            title = gettext("Origin %(address)s")
        groups.append(ChangeGroup(title % {"address": address}, address, changes))
    return groups


def _on_off(value: str) -> str:
    return gettext("on") if value == "on" else gettext("off")


def _policy(value: str) -> str:
    return str(ProtocolPolicy(value).label) if value in ProtocolPolicy.values else value


# Each service's summary (see the `summary=` of each publish), and how it reads in the reader's language.
_SUMMARIES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Domain added$"), lambda m: gettext("Domain added")),
    (re.compile(r"^Domain enabled$"), lambda m: gettext("Domain enabled")),
    (re.compile(r"^Domain disabled$"), lambda m: gettext("Domain disabled")),
    (re.compile(r"^Domain deleted$"), lambda m: gettext("Domain deleted")),
    (re.compile(r"^Origins replaced$"), lambda m: gettext("Origins replaced")),
    (
        re.compile(r"^Origin SNI (on|off)(?:: (.+))?$"),
        lambda m: (
            gettext("Origin SNI %(state)s: %(name)s") % {"state": _on_off(m[1]), "name": m[2]}
            if m[2]
            else gettext("Origin SNI %(state)s") % {"state": _on_off(m[1])}
        ),
    ),
    (
        re.compile(r"^Origin protocol (\w+) \(HTTP (\d+), HTTPS (\d+)\)$"),
        lambda m: (
            gettext("Origin protocol policy %(policy)s (HTTP port %(http)s, HTTPS port %(https)s)")
            % {"policy": _policy(m[1]), "http": m[2], "https": m[3]}
        ),
    ),
    (
        re.compile(r"^Origin protocol policy off \(each origin's own port\)$"),
        lambda m: gettext("Origin protocol policy off (each origin's own port)"),
    ),
    (
        re.compile(r"^Origin host (.+)$"),
        lambda m: (
            gettext("Origin host: %(host)s")
            % {
                "host": gettext("the accelerated domain (default)")
                if m[1] == "default (the domain)"
                else m[1]
            }
        ),
    ),
    (
        re.compile(r"^Origin certificate verification (on|off)$"),
        lambda m: gettext("Origin certificate verification %(state)s") % {"state": _on_off(m[1])},
    ),
    (
        re.compile(r"^SNI of origin (\S+): (.+)$"),
        lambda m: (
            gettext("SNI of origin %(origin)s: %(value)s")
            % {
                "origin": m[1],
                "value": gettext("the domain's Origin SNI") if m[2] == "domain default" else m[2],
            }
        ),
    ),
    (
        re.compile(r"^Rolled back to revision (\d+)$"),
        lambda m: gettext("Rolled back to revision %(number)s") % {"number": m[1]},
    ),
    (re.compile(r"^origin\.add (.+)$"), lambda m: gettext("Origin %(address)s added") % {"address": m[1]}),
    (
        re.compile(r"^origin\.update (.+)$"),
        lambda m: gettext("Origin %(address)s modified") % {"address": m[1]},
    ),
    (
        re.compile(r"^origin\.remove (.+)$"),
        lambda m: gettext("Origin %(address)s removed") % {"address": m[1]},
    ),
    (
        re.compile(r"^Configuration copied from (.+)$"),
        lambda m: gettext("Configuration copied from %(domain)s") % {"domain": m[1]},
    ),
]


def summary_text(summary: str) -> str:
    """A revision's stored summary in the reader's language."""
    for pattern, words in _SUMMARIES:
        match = pattern.match(summary)
        if match:
            return words(match)
    return summary
