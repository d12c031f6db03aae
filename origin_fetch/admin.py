from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.audit import ChangeContext
from accounts.models import Source
from domains.models import OriginFetchSettings
from origin_fetch.services import origin_sni_update
from origin_fetch.validators import validate_origin_sni


class OriginFetchSettingsForm(forms.ModelForm):
    class Meta:
        model = OriginFetchSettings
        fields = ["sni_enabled", "sni_name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["sni_name"] = validate_origin_sni(
                enabled=cleaned.get("sni_enabled", False),
                name=cleaned.get("sni_name", ""),
                policy=self.instance.forward_scheme,
                https_port=self.instance.https_port,
            )
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return cleaned


@admin.register(OriginFetchSettings)
class OriginFetchSettingsAdmin(admin.ModelAdmin):
    """Origin SNI can be changed here; the save goes through the same service as the console."""

    form = OriginFetchSettingsForm
    list_display = ["domain", "forward_scheme", "https_port", "sni_enabled", "sni_name", "version"]
    list_filter = ["forward_scheme", "sni_enabled"]
    list_select_related = ["domain"]
    search_fields = ["domain__name", "sni_name"]
    readonly_fields = [
        "domain",
        "forward_scheme",
        "http_port",
        "https_port",
        "origin_host",
        "verify_origin_cert",
        "verify_common_names",
        "version",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: OriginFetchSettings, form: forms.Form, change: bool
    ) -> None:
        origin_sni_update(
            domain=obj.domain,
            enabled=form.cleaned_data["sni_enabled"],
            name=form.cleaned_data["sni_name"],
            context=ChangeContext.from_request(request, source=Source.ADMIN),
            expected_version=obj.version,
        )
