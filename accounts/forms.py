"""Forms of the account pages: the operation log filters and the team dialogs. They validate, never save."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Source

MINUTE_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class MinuteInput(forms.DateTimeInput):
    input_type = "datetime-local"
    format = "%Y-%m-%dT%H:%M"


class OperationFilterForm(forms.Form):
    """Filters of the Operation Log page; an invalid one is ignored and shown as an error."""

    domain = forms.CharField(label=_("Domain name"), required=False, max_length=253)
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All sources")), *Source.choices]
    )
    since = forms.DateTimeField(
        label=_("From"), required=False, widget=MinuteInput, input_formats=MINUTE_FORMATS
    )
    until = forms.DateTimeField(
        label=_("To"), required=False, widget=MinuteInput, input_formats=MINUTE_FORMATS
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters, as keyword arguments of `operations_for_user`."""
        data = self.cleaned_data if self.is_valid() else {}
        until = data.get("until")
        return {
            "domain": data.get("domain", ""),
            "actor": data.get("user", ""),
            "source": data.get("source", ""),
            "since": data.get("since"),
            # The page picks minutes: "to 14:30" includes what happened during 14:30.
            "until": until + timedelta(minutes=1) if until is not None else None,
        }


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Give it to the new user through a safe channel; they log on with it."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
