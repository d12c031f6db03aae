"""Showing a service's refusal on the form that asked for the change."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, fields: Mapping[str, str] | None = None
) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it, else on the form.

    `fields` maps a service's field names to the form's where they differ (`forward_scheme` → `policy`).
    """
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            field = (fields or {}).get(key, key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
