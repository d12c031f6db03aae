"""Forms of the Basic Information tab: an origin, and the confirmation of a domain-wide action.

They validate and normalise with the shared rules (domains.validators); saving is the services' job.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import Domain, Origin, OriginPriority, OriginType
from domains.services import OriginInput, origin_fingerprint
from domains.validators import validate_origin


class OriginForm(forms.Form):
    """One origin: type, address, port, priority and weight."""

    type = forms.ChoiceField(label=_("Type"), choices=OriginType.choices)
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        help_text=_("An IP address, a domain name, or the domain name of an OSS bucket."),
    )
    port = forms.IntegerField(
        label=_("Port"),
        min_value=1,
        max_value=65535,
        error_messages={
            "min_value": _("The port must be between 1 and 65535."),
            "max_value": _("The port must be between 1 and 65535."),
            "invalid": _("The port must be between 1 and 65535."),
        },
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=OriginPriority.choices, coerce=int, widget=forms.RadioSelect
    )
    weight = forms.IntegerField(
        label=_("Weight"),
        min_value=1,
        max_value=100,
        help_text=_("1-100: origins of the same priority share requests in proportion to their weight."),
        error_messages={
            "min_value": _("The weight must be between 1 and 100."),
            "max_value": _("The weight must be between 1 and 100."),
            "invalid": _("The weight must be between 1 and 100."),
        },
    )

    # The origin as the dialog showed it (origin_fingerprint): a save over someone else's change is refused.
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, origin: Origin | None = None, **kwargs: Any) -> None:
        if origin is not None:
            initial = {
                "type": origin.type,
                "address": origin.address,
                "port": origin.port,
                "priority": origin.priority,
                "weight": origin.weight,
                "fingerprint": origin_fingerprint(origin),
            }
        else:
            initial = {
                "type": OriginType.IPADDR,
                "port": 80,
                "priority": OriginPriority.PRIMARY,
                "weight": 10,
            }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if origin is None:
            del self.fields["fingerprint"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if {"type", "address"} & set(self.errors):
            return cleaned
        try:
            values = validate_origin(
                type=cleaned["type"],
                address=cleaned["address"],
                port=cleaned.get("port", 80),
                priority=cleaned.get("priority", OriginPriority.PRIMARY),
                weight=cleaned.get("weight", 10),
            )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        else:
            cleaned["address"] = values["address"]
        return cleaned

    def origin_input(self) -> OriginInput:
        data = self.cleaned_data
        return OriginInput(
            type=data["type"],
            address=data["address"],
            port=data["port"],
            priority=data["priority"],
            weight=data["weight"],
        )


class DomainDeleteForm(forms.Form):
    """Deleting a domain asks for its name, so that nobody deletes the wrong one by a slip."""

    confirm_name = forms.CharField(label=_("Enter the domain name to confirm"), max_length=300, strip=True)

    def __init__(self, *args: Any, domain: Domain, **kwargs: Any) -> None:
        self.domain = domain
        super().__init__(*args, **kwargs)

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value.lower() != self.domain.name:
            raise ValidationError(
                _("Enter %(name)s exactly to delete it."), code="mismatch", params={"name": self.domain.name}
            )
        return value
