from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts.audit import ChangeContext
from accounts.models import Source
from domains.models import OriginFetchSettings
from origin_fetch.services import enabled_origin_ports, origin_protocol_update, origin_sni_update
from origin_fetch.validators import settings_clean

PROTOCOL_FIELDS = ["forward_scheme_enabled", "forward_scheme", "http_port", "https_port"]
SNI_FIELDS = ["sni_enabled", "sni_name"]


class OriginFetchSettingsForm(forms.ModelForm):
    class Meta:
        model = OriginFetchSettings
        fields = PROTOCOL_FIELDS + SNI_FIELDS

    def clean(self) -> dict[str, Any]:
        """The new protocol policy and Origin SNI checked together, by the rules the services apply."""
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        values = {field: getattr(self.instance, field) for field in ("origin_host", "verify_origin_cert")}
        domain = self.instance.domain
        try:
            clean = settings_clean(values | cleaned, origin_ports=enabled_origin_ports([domain])[domain.pk])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        cleaned["sni_name"] = clean["sni_name"]
        return cleaned


@admin.register(OriginFetchSettings)
class OriginFetchSettingsAdmin(admin.ModelAdmin):
    """The origin protocol policy and Origin SNI can be changed here, through the console's services."""

    form = OriginFetchSettingsForm
    list_display = [
        "domain",
        "forward_scheme_enabled",
        "forward_scheme",
        "https_port",
        "sni_enabled",
        "sni_name",
        "version",
    ]
    list_filter = ["forward_scheme_enabled", "forward_scheme", "sni_enabled"]
    list_select_related = ["domain"]
    search_fields = ["domain__name", "sni_name"]
    readonly_fields = ["domain", "origin_host", "verify_origin_cert", "version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: OriginFetchSettings, form: forms.Form, change: bool
    ) -> None:
        """Two services, in the order that never blocks: turning Origin SNI off before a protocol change
        it would refuse, and a protocol change before turning Origin SNI on. The form checked the result."""
        data = form.cleaned_data
        context = ChangeContext.from_request(request, source=Source.ADMIN)

        def protocol(version: int | None) -> None:
            origin_protocol_update(
                domain=obj.domain,
                enabled=data["forward_scheme_enabled"],
                policy=data["forward_scheme"],
                http_port=data["http_port"],
                https_port=data["https_port"],
                context=context,
                expected_version=version,
            )

        def sni(version: int | None) -> None:
            origin_sni_update(
                domain=obj.domain,
                enabled=data["sni_enabled"],
                name=data["sni_name"],
                context=context,
                expected_version=version,
            )

        first, second = (sni, protocol) if not data["sni_enabled"] else (protocol, sni)
        with transaction.atomic():
            first(obj.version)
            second(None)
