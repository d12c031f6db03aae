"""The operation log as a person reads it: actions, subjects and changed values in the reader's language.

The log belongs to the account; the words of each kind of change belong to the app that makes it. Each app
teaches them here once, from its `AppConfig.ready()`, with `describe()`: its actions' labels, the models
whose fields name the keys it stores (in lookup order), the containers of nested values, other keys, and
which stored key names the subject of its actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import OperationLog


@dataclass(frozen=True)
class Change:
    """One changed value of an operation log entry, as a person reads it: `label` in the reader's language,
    `field` the stored key it came from (`origins[1.2.3.4].port`)."""

    field: str
    label: str
    before: str
    after: str


@dataclass
class _Words:
    actions: dict[str, Promise | str] = dataclass_field(default_factory=dict)
    # `settings.sni_name`, `origins[1.2.3.4].port`: the model whose fields name the keys of a container.
    containers: dict[str, type[Model]] = dataclass_field(default_factory=dict)
    # A key at the top level is looked up in these models in this order (keys: only those keys, or all).
    models: list[tuple[type[Model], frozenset[str] | None]] = dataclass_field(default_factory=list)
    keys: dict[str, Promise | str] = dataclass_field(default_factory=dict)
    # The prefix of an action (`origin.`) and the stored key that names what it was about (`address`).
    subjects: dict[str, str] = dataclass_field(default_factory=dict)


LOG_PAGE_SIZE = 20

_words = _Words()
_PATH = re.compile(r"^(?:(?P<container>\w+)(?:\[(?P<item>[^\]]*)\])?\.)?(?P<key>\w+)$")


def describe(
    *,
    actions: dict[str, Promise | str] | None = None,
    containers: dict[str, type[Model]] | None = None,
    models: tuple[type[Model] | tuple[type[Model], frozenset[str]], ...] = (),
    keys: dict[str, Promise | str] | None = None,
    subjects: dict[str, str] | None = None,
) -> None:
    """Teach the operation log the words of an app's changes (call once, from `AppConfig.ready()`)."""
    _words.actions |= actions or {}
    _words.containers |= containers or {}
    for model in models:
        entry = model if isinstance(model, tuple) else (model, None)
        if entry not in _words.models:
            _words.models.append(entry)
    _words.keys |= keys or {}
    _words.subjects |= subjects or {}


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
        candidates = tuple(model for model, keys in _words.models if keys is None or key in keys)
        field = _model_field(candidates, key)
        if field is None and key in _words.keys:
            return capfirst(str(_words.keys[key])), {}
    else:
        model = _words.containers.get(container)
        field = _model_field((model,), key) if model is not None else None
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
    return str(_words.actions.get(action, action))


def operation_subject(entry: OperationLog) -> str:
    """What a change was about (an AccessKey ID, a user, an origin), shown next to the action."""
    values = (entry.after or {}) | (entry.before or {})
    for prefix, key in _words.subjects.items():
        if entry.action.startswith(prefix):
            return str(values.get(key, ""))
    return ""


def operation_rows(entries: list[OperationLog]) -> list[dict[str, object]]:
    """A page of entries as the Operation Log tables show them."""
    return [
        {
            "entry": entry,
            "action": action_label(entry.action),
            "subject": operation_subject(entry),
            "changes": operation_changes(entry),
        }
        for entry in entries
    ]
