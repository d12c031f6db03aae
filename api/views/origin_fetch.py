"""REST API: back-to-origin settings, each section with an ETag and If-Match."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from api import selectors
from api.base import ApiMixin, etag, expected_version
from api.errors import service_errors
from api.origin_fetch_serializers import (
    OriginFetchSerializer,
    OriginHostInputSerializer,
    OriginHostSerializer,
    OriginSniInputSerializer,
    OriginSniSerializer,
    ProtocolInputSerializer,
    ProtocolSerializer,
    VerificationInputSerializer,
    VerificationSerializer,
    origin_fetch_values,
    origin_host_values,
    origin_sni_values,
    protocol_values,
    verification_values,
)
from api.views.common import DOMAIN_NAME, ETAG, IF_MATCH, STALE, user_of
from domains.models import Domain, OriginFetchSettings
from domains.selectors import settings_of
from origin_fetch.services import (
    SettingsChange,
    origin_host_update,
    origin_protocol_update,
    origin_sni_update,
    origin_verification_update,
)


@extend_schema(
    tags=["origin-fetch"],
    summary="All back-to-origin settings",
    parameters=[DOMAIN_NAME, ETAG],
    responses=OriginFetchSerializer,
)
class OriginFetchView(ApiMixin, viewsets.ViewSet):
    """Every back-to-origin setting of a domain; the ETag is the settings version, for If-Match."""

    def retrieve(self, request: Request, domain_name: str) -> Response:
        domain = selectors.domain_for_user(user_of(request), name=domain_name)
        settings = settings_of(domain)
        return Response(OriginFetchSerializer(origin_fetch_values(settings)).data, headers=_etag(settings))


def _etag(settings: OriginFetchSettings) -> dict[str, str]:
    return {"ETag": etag(settings.version)}


class SettingsSectionView(ApiMixin, viewsets.ViewSet):
    """One section of the back-to-origin settings: GET with an ETag, PUT/PATCH honouring If-Match."""

    input_serializer: type[Serializer]
    output_serializer: type[Serializer]
    values: Callable[[OriginFetchSettings], dict[str, Any]]

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        raise NotImplementedError

    def _read(self, domain_name: str) -> tuple[Domain, OriginFetchSettings]:
        domain = selectors.domain_for_user(user_of(self.request), name=domain_name)
        return domain, settings_of(domain)

    def _respond(self, settings: OriginFetchSettings) -> Response:
        values = self.values(settings)
        return Response(self.output_serializer(values).data, headers=_etag(settings))

    def retrieve(self, request: Request, domain_name: str) -> Response:
        return self._respond(self._read(domain_name)[1])

    def _write(self, request: Request, domain_name: str, *, partial: bool) -> Response:
        domain, settings = self._read(domain_name)
        version = expected_version(request, settings.version)
        serializer = self.input_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = self.values(settings) | serializer.validated_data if partial else serializer.validated_data
        with service_errors():
            change = self.save(domain, data, context=self.change_context(), expected_version=version)
        return self._respond(change.settings)

    def update(self, request: Request, domain_name: str) -> Response:
        return self._write(request, domain_name, partial=False)

    def partial_update(self, request: Request, domain_name: str) -> Response:
        return self._write(request, domain_name, partial=True)


def section_schema(title: str, shown: type[Serializer], written: type[Serializer], description: str) -> Any:
    """The OpenAPI description of one settings section's GET, PUT and PATCH."""
    write = {
        "request": written,
        "responses": {200: shown, 412: STALE},
        "parameters": [DOMAIN_NAME, IF_MATCH, ETAG],
        "description": description,
    }
    return extend_schema_view(
        retrieve=extend_schema(
            summary=f"Get the {title}",
            responses=shown,
            parameters=[DOMAIN_NAME, ETAG],
            description=description,
        ),
        update=extend_schema(summary=f"Set the {title}", **write),
        partial_update=extend_schema(summary=f"Change part of the {title}", **write),
    )


@section_schema(
    "Origin SNI",
    OriginSniSerializer,
    OriginSniInputSerializer,
    "The SNI sent to HTTPS origins: one specific domain name; wildcards are not supported. It can be on only "
    "when back-to-origin uses HTTPS on port 443.",
)
@extend_schema(tags=["origin-fetch"])
class OriginSniView(SettingsSectionView):
    input_serializer = OriginSniInputSerializer
    output_serializer = OriginSniSerializer
    values = staticmethod(origin_sni_values)

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        return origin_sni_update(domain=domain, enabled=data["enabled"], name=data["name"], **kwargs)


@section_schema(
    "origin protocol policy",
    ProtocolSerializer,
    ProtocolInputSerializer,
    "With the policy on (`enabled`, the default), its port for its scheme is used for every origin and each "
    "origin's own port is ignored; off, each origin's own port is used, over HTTPS when it is 443 and over "
    "HTTP otherwise. Refused when it would break an enabled Origin SNI (which needs HTTPS on port 443: with "
    "the policy off, an origin on port 443).",
)
@extend_schema(tags=["origin-fetch"])
class ProtocolView(SettingsSectionView):
    input_serializer = ProtocolInputSerializer
    output_serializer = ProtocolSerializer
    values = staticmethod(protocol_values)

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        return origin_protocol_update(
            domain=domain,
            enabled=data["enabled"],
            policy=data["forward_scheme"],
            http_port=data["http_port"],
            https_port=data["https_port"],
            **kwargs,
        )


@section_schema(
    "origin host",
    OriginHostSerializer,
    OriginHostInputSerializer,
    "The Host header sent to origins; keep it equal to the SNI unless the origin expects otherwise.",
)
@extend_schema(tags=["origin-fetch"])
class OriginHostView(SettingsSectionView):
    input_serializer = OriginHostInputSerializer
    output_serializer = OriginHostSerializer
    values = staticmethod(origin_host_values)

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        # The type counts only when the request gives it (a PATCH of the host alone keeps the old rule).
        host_type = data.get("origin_host_type") if "origin_host_type" in self.request.data else None
        return origin_host_update(domain=domain, host=data["origin_host"], host_type=host_type, **kwargs)


@section_schema(
    "origin certificate verification",
    VerificationSerializer,
    VerificationInputSerializer,
    "Whether the edge verifies the origin's certificate. It is checked against the SNI sent to each origin "
    "and no other name: extra acceptable common names are not supported (nginx, which edge nodes run, has "
    "no way to accept another name), so `common_names` must be empty.",
)
@extend_schema(tags=["origin-fetch"])
class VerificationView(SettingsSectionView):
    input_serializer = VerificationInputSerializer
    output_serializer = VerificationSerializer
    values = staticmethod(verification_values)

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        return origin_verification_update(
            domain=domain, enabled=data["enabled"], common_names=data["common_names"], **kwargs
        )
