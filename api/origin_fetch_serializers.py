"""Request and response shapes of the REST API's back-to-origin settings, one section at a time.

As in `api.serializers`, request serializers check the JSON shape only and the services apply every rule.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import port_field
from domains.models import OriginFetchSettings, ProtocolPolicy
from origin_fetch.validators import HOST_TYPES, origin_host_type_of, origin_sni_warnings


class OriginSniInputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Origin SNI on or off.")
    name = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="The SNI: one specific domain name (no wildcard, no IP address). Kept when turned off.",
    )


class OriginSniSerializer(OriginSniInputSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Advice that does not block saving, such as an origin host that differs from the SNI.",
    )


class ProtocolInputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        default=True,
        help_text="The origin protocol policy on (default): every origin is fetched with `forward_scheme` on "
        "its port, and each origin's own port is ignored. Off: each origin is fetched on its own port, over "
        "HTTPS when it is 443 and HTTP otherwise (the policy and ports are kept). With it off, Origin SNI "
        "needs an origin on port 443.",
    )
    forward_scheme = serializers.ChoiceField(
        choices=ProtocolPolicy.choices, help_text="`follow` the client's protocol, or always `http`/`https`."
    )
    http_port = port_field(default=80)
    https_port = port_field(default=443)


class ProtocolSerializer(ProtocolInputSerializer):
    pass


class OriginHostInputSerializer(serializers.Serializer):
    origin_host_type = serializers.ChoiceField(
        choices=HOST_TYPES,
        required=False,
        help_text=(
            "As the vendor's console offers it: `domain` sends the accelerated domain (the default; "
            "`origin_host` must then be empty), `origin` the domain of one of the origins (a domain-name "
            "origin or an OSS bucket; `origin_host` names which, and may be empty when there is only one), "
            "`custom` the name in `origin_host`. Without it, `origin_host` alone decides (empty: the "
            "accelerated domain)."
        ),
    )
    origin_host = serializers.CharField(
        allow_blank=True, help_text="The Host header sent to origins; empty for the accelerated domain."
    )


class OriginHostSerializer(OriginHostInputSerializer):
    effective_origin_host = serializers.CharField(read_only=True)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string"},
        "maxItems": 0,
        "deprecated": True,
        "description": "Always empty; a name given is refused. Edge nodes verify the origin's certificate "
        "against the SNI sent to that origin and accept no other name.",
    }
)
class RetiredList(serializers.ListField):
    """A list that used to hold values and must now be empty (the service refuses any)."""


class VerificationInputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        help_text="Verify the origin's certificate, against the SNI sent to each origin."
    )
    common_names = RetiredList(child=serializers.CharField(allow_blank=True), default=list)


class VerificationSerializer(VerificationInputSerializer):
    pass


class OriginFetchSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="Grows on every saved change; the ETag carries it.")
    modified_at = serializers.DateTimeField(allow_null=True)
    protocol = ProtocolSerializer()
    origin_host = OriginHostSerializer()
    origin_sni = OriginSniSerializer()
    verification = VerificationSerializer()


def origin_sni_values(settings: OriginFetchSettings) -> dict[str, Any]:
    return {
        "enabled": settings.sni_enabled,
        "name": settings.sni_name,
        "warnings": origin_sni_warnings(
            enabled=settings.sni_enabled,
            name=settings.sni_name,
            origin_host=settings.effective_origin_host,
        ),
    }


def protocol_values(settings: OriginFetchSettings) -> dict[str, Any]:
    return {
        "enabled": settings.forward_scheme_enabled,
        "forward_scheme": settings.forward_scheme,
        "http_port": settings.http_port,
        "https_port": settings.https_port,
    }


def origin_host_values(settings: OriginFetchSettings) -> dict[str, Any]:
    return {
        "origin_host_type": origin_host_type_of(settings.origin_host, settings.domain.origins.all()),
        "origin_host": settings.origin_host,
        "effective_origin_host": settings.effective_origin_host,
    }


def verification_values(settings: OriginFetchSettings) -> dict[str, Any]:
    return {"enabled": settings.verify_origin_cert, "common_names": []}


def origin_fetch_values(settings: OriginFetchSettings) -> dict[str, Any]:
    return {
        "version": settings.version,
        "modified_at": settings.modified_at,
        "protocol": protocol_values(settings),
        "origin_host": origin_host_values(settings),
        "origin_sni": origin_sni_values(settings),
        "verification": verification_values(settings),
    }
