"""Forms of the Domain Names pages: they coerce input; `domains.services` validates and saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from domains.models import (
    BusinessType,
    Coverage,
    Domain,
    DomainStatus,
    Origin,
    OriginPriority,
    OriginType,
    Product,
)
from domains.origin_services import MAX_ORIGINS, OriginInput, origin_fingerprint
from domains.validators import validate_origin

PAGE_SIZES = (20, 50, 100)
# The choices of domains.selectors.SEARCH_LOOKUPS and LIST_ORDERINGS, with their labels.
MATCH_CHOICES = [
    ("fuzzy", _("Fuzzy match")),
    ("prefix", _("Prefix match")),
    ("suffix", _("Suffix match")),
    ("exact", _("Exact match")),
]
ORDERING_CHOICES = [
    ("name", _("Domain name (A to Z)")),
    ("-name", _("Domain name (Z to A)")),
    ("-created_at", _("Created at (newest first)")),
    ("created_at", _("Created at (oldest first)")),
]


class DomainFilterForm(forms.Form):
    """The Domain Names page's search box, filters, sort and page size; bad values fall back to defaults."""

    q = forms.CharField(label=_("Search by domain name"), required=False, max_length=253)
    match = forms.ChoiceField(label=_("Match"), choices=MATCH_CHOICES, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All statuses")), *DomainStatus.choices], required=False
    )
    ordering = forms.ChoiceField(label=_("Sort by"), choices=ORDERING_CHOICES, required=False)
    size = forms.TypedChoiceField(label=_("Page size"), coerce=int, required=False)

    DEFAULTS: dict[str, Any] = {"q": "", "match": "fuzzy", "status": "", "ordering": "name", "size": 20}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["size"].choices = [  # type: ignore[attr-defined]
            (size, _("%(size)d per page") % {"size": size}) for size in PAGE_SIZES
        ]

    def values(self) -> dict[str, Any]:
        """Each filter's valid value, or its default: a hand-edited URL never breaks the page."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            key: cleaned[key] if key in cleaned and cleaned[key] not in ("", None) else default
            for key, default in self.DEFAULTS.items()
        }


class DomainAddForm(forms.Form):
    """Add Domain Name: the domain's own fields. Its origins are `OriginForm`s."""

    name = forms.CharField(
        label=_("Domain name"),
        max_length=300,
        help_text=_("For example www.example.com; a wildcard domain such as *.example.com is allowed."),
    )
    business_type = forms.ChoiceField(label=_("Business type"), widget=forms.RadioSelect)
    coverage = forms.ChoiceField(
        label=_("Acceleration region"),
        choices=Coverage.choices,
        initial=Coverage.DOMESTIC,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=256)

    def __init__(self, *args: Any, product: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if product == Product.DCDN:
            types = [BusinessType.DYNAMIC]
        else:
            types = [BusinessType.WEB, BusinessType.DOWNLOAD, BusinessType.VIDEO]
        field = self.fields["business_type"]
        field.choices = [(t.value, t.label) for t in types]  # type: ignore[attr-defined]
        field.initial = types[0].value


ORIGIN_PREFIX = "origin"
ORIGIN_FIELDS = ("type", "address", "port", "priority", "weight")


def origin_count(data: QueryDict) -> int:
    try:
        count = int(data.get("origin_count", 1))
    except ValueError:
        count = 1
    return max(1, min(count, MAX_ORIGINS))


def origin_rows(data: QueryDict | None) -> list[OriginForm]:
    """The origin rows of Add Domain Name: one empty row, or the submitted rows bound to `data`."""
    if data is None:
        return [OriginForm(prefix=f"{ORIGIN_PREFIX}-0", in_row=True)]
    return [
        OriginForm(data, prefix=f"{ORIGIN_PREFIX}-{index}", in_row=True)
        for index in range(origin_count(data))
    ]


def origin_rows_redrawn(data: QueryDict, *, add: bool, remove: int | None) -> list[OriginForm]:
    """The rows as typed, with one added or one removed: unbound (this is not a submission, so no errors)."""
    typed = [
        {field: data.get(f"{ORIGIN_PREFIX}-{index}-{field}", "") for field in ORIGIN_FIELDS}
        for index in range(origin_count(data))
        if index != remove
    ]
    if (add and len(typed) < MAX_ORIGINS) or not typed:
        typed.append({})
    return [
        OriginForm(initial=values or None, prefix=f"{ORIGIN_PREFIX}-{index}", in_row=True)
        for index, values in enumerate(typed)
    ]


class OriginForm(forms.Form):
    """One origin: type, address, port, priority and weight (an Add Domain Name row, or the origin dialog)."""

    type = forms.ChoiceField(label=_("Type"), choices=OriginType.choices, initial=OriginType.IPADDR)
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        help_text=_("An IP address, a domain name, or the domain name of an OSS bucket."),
        error_messages={"required": _("Enter the origin's address.")},
    )
    port = forms.IntegerField(
        label=_("Port"),
        initial=80,
        min_value=1,
        max_value=65535,
        error_messages={
            "required": _("The port must be between 1 and 65535."),
            "min_value": _("The port must be between 1 and 65535."),
            "max_value": _("The port must be between 1 and 65535."),
            "invalid": _("The port must be between 1 and 65535."),
        },
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=OriginPriority.choices,
        coerce=int,
        initial=OriginPriority.PRIMARY,
        widget=forms.RadioSelect,
    )
    weight = forms.IntegerField(
        label=_("Weight"),
        initial=10,
        min_value=1,
        max_value=100,
        help_text=_("1-100: origins of the same priority share requests in proportion to their weight."),
        error_messages={
            "required": _("The weight must be between 1 and 100."),
            "min_value": _("The weight must be between 1 and 100."),
            "max_value": _("The weight must be between 1 and 100."),
            "invalid": _("The weight must be between 1 and 100."),
        },
    )

    # The origin as the dialog showed it (origin_fingerprint): a save over someone else's change is refused.
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, origin: Origin | None = None, in_row: bool = False, **kwargs: Any) -> None:
        if origin is not None:
            kwargs.setdefault(
                "initial",
                {
                    "type": origin.type,
                    "address": origin.address,
                    "port": origin.port,
                    "priority": origin.priority,
                    "weight": origin.weight,
                    "fingerprint": origin_fingerprint(origin),
                },
            )
        super().__init__(*args, **kwargs)
        if origin is None:
            del self.fields["fingerprint"]
        if in_row:  # a row of Add Domain Name: labels say "Origin type of origin 2", priority is a list
            self.fields["type"].label = _("Origin type")
            self.fields["address"].label = _("Origin address")
            self.fields["priority"].widget = forms.Select(choices=OriginPriority.choices)

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
