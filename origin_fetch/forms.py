from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import (
    FOLLOW_HOST,
    FOLLOW_ORIGIN,
    Origin,
    OriginFetchSettings,
    OriginType,
    ProtocolPolicy,
)
from origin_fetch.services import enabled_origin_ports
from origin_fetch.validators import (
    HOST_CUSTOM,
    HOST_DOMAIN,
    HOST_ORIGIN,
    origin_host_names,
    origin_host_type_of,
    validate_origin_sni,
)


class OriginSniForm(forms.Form):
    """The Origin SNI dialog. Validates and normalises with the shared rules; saving is the service's job."""

    enabled = forms.BooleanField(label=_("Origin SNI"), required=False)
    name = forms.CharField(
        label=_("SNI"),
        required=False,
        max_length=300,
        strip=False,
        widget=forms.TextInput(attrs={"placeholder": "origin.example.com", "autocomplete": "off"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, settings: OriginFetchSettings, **kwargs: Any) -> None:
        self.settings = settings
        kwargs.setdefault(
            "initial",
            {"enabled": settings.sni_enabled, "name": settings.sni_name, "version": settings.version},
        )
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            cleaned["name"] = validate_origin_sni(
                enabled=cleaned.get("enabled", False),
                name=cleaned.get("name", ""),
                policy=self.settings.forward_scheme,
                https_port=self.settings.https_port,
                policy_enabled=self.settings.forward_scheme_enabled,
                origin_ports=enabled_origin_ports([self.settings.domain])[self.settings.domain_id],
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class VersionedForm(forms.Form):
    """A settings dialog: carries the version it was opened at, so a stale save is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, settings: OriginFetchSettings, **kwargs: Any) -> None:
        self.settings = settings
        kwargs.setdefault("initial", self.initial_from(settings) | {"version": settings.version})
        super().__init__(*args, **kwargs)

    def initial_from(self, settings: OriginFetchSettings) -> dict[str, Any]:
        return {}


class OriginProtocolForm(VersionedForm):
    """Origin protocol policy: on (follow the client, HTTP or HTTPS, with the two ports) or off."""

    enabled = forms.BooleanField(
        label=_("Origin protocol policy"),
        required=False,
        help_text=_(
            "On: every origin is fetched with the protocol and port set here, and each origin's own port is "
            "ignored. Off: each origin is fetched on its own port, over HTTPS when it is 443 and over HTTP "
            "otherwise; the protocol and ports below are kept for when you turn the policy on again."
        ),
    )
    policy = forms.ChoiceField(
        label=_("Origin protocol"), choices=ProtocolPolicy.choices, widget=forms.RadioSelect
    )
    http_port = forms.IntegerField(label=_("HTTP port"), min_value=1, max_value=65535)
    https_port = forms.IntegerField(label=_("HTTPS port"), min_value=1, max_value=65535)

    def initial_from(self, settings: OriginFetchSettings) -> dict[str, Any]:
        return {
            "enabled": settings.forward_scheme_enabled,
            "policy": settings.forward_scheme,
            "http_port": settings.http_port,
            "https_port": settings.https_port,
        }


class OriginHostForm(VersionedForm):
    """The Host header sent to origins, by type as the vendor offers it: the accelerated domain (the
    default), an origin's domain (a domain-name origin, or an OSS bucket's domain), or a custom name."""

    host_type = forms.ChoiceField(
        label=_("Domain type"),
        choices=[
            (HOST_DOMAIN, _("Accelerated domain")),
            (HOST_ORIGIN, _("Origin domain")),
            (HOST_CUSTOM, _("Custom domain")),
        ],
        widget=forms.RadioSelect,
    )
    origin = forms.ChoiceField(label=_("Origin"), required=False, widget=forms.RadioSelect)
    host = forms.CharField(
        label=_("Custom origin host"),
        required=False,
        max_length=300,
        help_text=_("The Host header sent to origins, with Custom domain."),
    )

    def __init__(self, *args: Any, settings: OriginFetchSettings, **kwargs: Any) -> None:
        self.origin_names = origin_host_names(settings.domain.origins.all())
        super().__init__(*args, settings=settings, **kwargs)
        oss = {o.address for o in settings.domain.origins.all() if o.type == OriginType.OSS}
        self.fields["origin"].choices = [  # type: ignore[attr-defined]
            (name, _("%(name)s (OSS bucket domain)") % {"name": name} if name in oss else name)
            for name in self.origin_names
        ]
        if not self.origin_names:  # every origin is an IP address: nothing to choose (the type is refused)
            del self.fields["origin"]

    def initial_from(self, settings: OriginFetchSettings) -> dict[str, Any]:
        host_type = origin_host_type_of(settings.origin_host, settings.domain.origins.all())
        return {
            "host_type": host_type,
            "origin": settings.origin_host if host_type == HOST_ORIGIN else next(iter(self.origin_names), ""),
            "host": settings.origin_host if host_type == HOST_CUSTOM else "",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed = (cleaned.get("host") or "").strip()
        if cleaned.get("host_type") == HOST_ORIGIN and typed:  # a custom name is never silently dropped
            self.add_error(
                "host",
                ValidationError(
                    _("Origin domain sends the origin's domain: clear %(host)s, or choose Custom domain."),
                    code="host_ignored",
                    params={"host": typed},
                ),
            )
        return cleaned

    def chosen_host(self) -> str:
        """The name the chosen type goes with: the origin picked, or the name typed (which the service
        refuses with the accelerated domain, rather than ignore it)."""
        data = self.cleaned_data
        return data.get("origin", "") if data["host_type"] == HOST_ORIGIN else data.get("host", "")


class OriginVerificationForm(VersionedForm):
    enabled = forms.BooleanField(
        label=_("Origin certificate verification"),
        required=False,
        help_text=_(
            "Edge nodes check the origin's certificate against the SNI they send to that origin, and accept "
            "no other name: set Origin SNI (or the SNI of each origin) to the name the certificate is issued "
            "for."
        ),
    )

    def initial_from(self, settings: OriginFetchSettings) -> dict[str, Any]:
        return {"enabled": settings.verify_origin_cert}


class OriginSniHostForm(forms.Form):
    """The SNI of one origin: the domain's Origin SNI, a name of its own, its address, or the origin host."""

    MODES = [
        ("default", _("Use the domain's Origin SNI")),
        ("name", _("A specific name")),
        (FOLLOW_ORIGIN, _("Follow the origin address")),
        (FOLLOW_HOST, _("Follow the origin host")),
    ]
    mode = forms.ChoiceField(label=_("SNI of this origin"), choices=MODES, widget=forms.RadioSelect)
    name = forms.CharField(label=_("SNI"), required=False, max_length=300)

    def __init__(self, *args: Any, origin: Origin, **kwargs: Any) -> None:
        self.origin = origin
        value = origin.sni_host
        mode = value if value in (FOLLOW_ORIGIN, FOLLOW_HOST) else ("name" if value else "default")
        kwargs.setdefault("initial", {"mode": mode, "name": value if mode == "name" else ""})
        super().__init__(*args, **kwargs)

    @property
    def sni_host(self) -> str:
        mode = self.cleaned_data["mode"]
        if mode == "default":
            return ""
        if mode == "name":
            return self.cleaned_data.get("name", "")
        return str(mode)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") == "name" and not (cleaned.get("name") or "").strip():
            self.add_error("name", _("Enter the SNI of this origin, or choose another option."))
        return cleaned
