"""REST API views: they read through selectors, shape data with serializers and write through the services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from api import selectors
from api.base import ApiMixin, etag, expected_version
from api.errors import NON_FIELD, ErrorSerializer, ShapedError, service_errors
from api.pagination import PagePagination
from api.serializers import (
    DeliveryProgressSerializer,
    DomainCreateSerializer,
    DomainFilterSerializer,
    DomainSerializer,
    EdgeNodeSerializer,
    OperationFilterSerializer,
    OperationSerializer,
    OriginFetchSerializer,
    OriginHostInputSerializer,
    OriginHostSerializer,
    OriginInputSerializer,
    OriginSerializer,
    OriginSniHostInputSerializer,
    OriginSniHostSerializer,
    OriginSniInputSerializer,
    OriginSniSerializer,
    ProtocolInputSerializer,
    ProtocolSerializer,
    RevisionDetailSerializer,
    RevisionSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    VerificationInputSerializer,
    VerificationSerializer,
    origin_fetch_values,
    origin_host_values,
    origin_sni_values,
    protocol_values,
    verification_values,
)
from domains.models import Domain
from domains.selectors import membership_for
from domains.services import (
    OriginInput,
    domain_create,
    domain_delete,
    domain_disable,
    domain_enable,
    origin_add,
    origin_remove,
    origin_update,
)
from edge.models import Deployment, EdgeNode
from edge.services import NodeProgress, RollbackError, domain_delivery_progress, domain_rollback
from origin_fetch.models import OriginFetchSettings
from origin_fetch.services import (
    SettingsChange,
    origin_host_update,
    origin_protocol_update,
    origin_sni_host_update,
    origin_sni_update,
    origin_verification_update,
)

DOMAIN_NAME = OpenApiParameter(
    "domain_name", OpenApiTypes.STR, OpenApiParameter.PATH, description="The accelerated domain's name."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag read with GET. When it is not the current one, nothing is saved and the answer "
    "is 412. Without the header the change applies to whatever is current.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description="The version of the back-to-origin settings, for If-Match.",
)
STALE = OpenApiResponse(ErrorSerializer, description="If-Match names a version that is no longer current.")


def _user(request: Request) -> AbstractBaseUser:
    return request.user  # type: ignore[return-value]


def _node_rows(deployments: Iterable[Deployment | NodeProgress]) -> list[dict[str, Any]]:
    """The delivery of a revision to each node, in NodeDeploymentSerializer's shape."""
    return [
        {
            "node": row.node.name,
            "region": row.node.region,
            "state": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "applied_at": row.applied_at,
        }
        for row in deployments
    ]


# Domains


@extend_schema_view(
    list=extend_schema(
        summary="List domains",
        parameters=[DomainFilterSerializer],
        responses=DomainSerializer(many=True),
    ),
    retrieve=extend_schema(summary="Get a domain", responses=DomainSerializer),
    create=extend_schema(
        summary="Add a domain with its origins", request=DomainCreateSerializer, responses=DomainSerializer
    ),
    destroy=extend_schema(
        summary="Delete a domain", description="It disappears at once, and from edge nodes as they apply it."
    ),
)
@extend_schema(tags=["domains"])
class DomainViewSet(ApiMixin, viewsets.GenericViewSet):
    """Accelerated domains of your account, by name. Viewers read; owners and administrators also write."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    pagination_class = PagePagination
    serializer_class = DomainSerializer

    def _domain(self, name: str) -> Domain:
        return selectors.domain_for_user(_user(self.request), name=name)

    def list(self, request: Request) -> Response:
        filters = DomainFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        domains = selectors.domain_list(
            _user(request),
            query=data.get("q", ""),
            match=data["match"],
            status=data.get("status", ""),
            product=data.get("product", ""),
            ordering=data["ordering"],
        )
        page = self.paginate_queryset(domains)
        return self.get_paginated_response(DomainSerializer(page, many=True).data)

    def retrieve(self, request: Request, name: str) -> Response:
        return Response(DomainSerializer(self._domain(name)).data)

    def create(self, request: Request) -> Response:
        serializer = DomainCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership = membership_for(_user(request))
        assert membership is not None  # WritesNeedWriteRole let the request through
        with service_errors():
            domain = domain_create(
                account=membership.account,
                name=data["name"],
                product=data["product"],
                business_type=data["business_type"],
                coverage=data["coverage"],
                description=data["description"],
                origins=[OriginInput(**origin) for origin in data["origins"]],
                context=self.change_context(),
            )
        location = reverse("api:domain-detail", kwargs={"name": domain.name})
        return Response(
            DomainSerializer(self._domain(domain.name)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def destroy(self, request: Request, name: str) -> Response:
        domain = self._domain(name)
        with service_errors():
            domain_delete(domain=domain, context=self.change_context())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Disable a domain", request=None, responses=DomainSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, name: str) -> Response:
        with service_errors():
            domain_disable(domain=self._domain(name), context=self.change_context())
        return Response(DomainSerializer(self._domain(name)).data)

    @extend_schema(summary="Enable a domain", request=None, responses=DomainSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, name: str) -> Response:
        with service_errors():
            domain_enable(domain=self._domain(name), context=self.change_context())
        return Response(DomainSerializer(self._domain(name)).data)

    @extend_schema(
        summary="Delivery of the latest revision to each edge node",
        tags=["delivery"],
        responses=DeliveryProgressSerializer,
    )
    @action(detail=True, methods=["get"])
    def deployments(self, request: Request, name: str) -> Response:
        domain = self._domain(name)
        applied, total, rows = domain_delivery_progress(domain)
        progress = {
            "revision": domain.config_revision,
            "status": domain.status,
            "applied": applied,
            "total": total,
            "nodes": _node_rows(rows),
        }
        return Response(DeliveryProgressSerializer(progress).data)


# Origins


@extend_schema_view(
    list=extend_schema(summary="List a domain's origins", responses=OriginSerializer(many=True)),
    retrieve=extend_schema(summary="Get an origin", responses=OriginSerializer),
    create=extend_schema(summary="Add an origin", request=OriginInputSerializer, responses=OriginSerializer),
    update=extend_schema(
        summary="Replace an origin", request=OriginInputSerializer, responses=OriginSerializer
    ),
    partial_update=extend_schema(
        summary="Change an origin", request=OriginInputSerializer, responses=OriginSerializer
    ),
    destroy=extend_schema(summary="Remove an origin", description="The last origin cannot be removed."),
    sni=extend_schema(
        summary="Per-origin SNI",
        description="A value here beats the domain's Origin SNI for this origin.",
        request=OriginSniHostInputSerializer,
        responses=OriginSniHostSerializer,
    ),
)
@extend_schema(
    tags=["origins"],
    parameters=[DOMAIN_NAME, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
)
class OriginViewSet(ApiMixin, viewsets.GenericViewSet):
    """A domain's origins, with the SNI the edge sends to each and why."""

    lookup_field = "id"
    lookup_value_regex = r"[^/]+"
    serializer_class = OriginSerializer
    pagination_class = None

    def _domain(self) -> Domain:
        return selectors.domain_for_user(_user(self.request), name=self.kwargs["domain_name"])

    def _origin_response(self, domain_name: str, origin_id: int, code: int = status.HTTP_200_OK) -> Response:
        domain = selectors.domain_for_user(_user(self.request), name=domain_name)
        return Response(OriginSerializer(selectors.origin_of(domain, origin_id=origin_id)).data, status=code)

    def list(self, request: Request, domain_name: str) -> Response:
        return Response(OriginSerializer(self._domain().origins.all(), many=True).data)

    def retrieve(self, request: Request, domain_name: str, id: str) -> Response:
        return Response(OriginSerializer(selectors.origin_of(self._domain(), origin_id=id)).data)

    def create(self, request: Request, domain_name: str) -> Response:
        domain = self._domain()
        serializer = OriginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(strip_prefix="origins."):
            origin = origin_add(
                domain=domain, origin=OriginInput(**serializer.validated_data), context=self.change_context()
            )
        return self._origin_response(domain.name, origin.pk, status.HTTP_201_CREATED)

    def _update(self, request: Request, id: str, *, partial: bool) -> Response:
        domain = self._domain()
        origin = selectors.origin_of(domain, origin_id=id)
        serializer = OriginInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        current = {
            "type": origin.type,
            "address": origin.address,
            "port": origin.port,
            "priority": origin.priority,
            "weight": origin.weight,
        }
        changes = OriginInput(
            **(current | serializer.validated_data if partial else serializer.validated_data)
        )
        with service_errors(strip_prefix="origins."):
            origin_update(origin=origin, changes=changes, context=self.change_context())
        return self._origin_response(domain.name, origin.pk)

    def update(self, request: Request, domain_name: str, id: str) -> Response:
        return self._update(request, id, partial=False)

    def partial_update(self, request: Request, domain_name: str, id: str) -> Response:
        return self._update(request, id, partial=True)

    def destroy(self, request: Request, domain_name: str, id: str) -> Response:
        origin = selectors.origin_of(self._domain(), origin_id=id)
        with service_errors():
            origin_remove(origin=origin, context=self.change_context())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get", "put"])
    def sni(self, request: Request, domain_name: str, id: str) -> Response:
        origin = selectors.origin_of(self._domain(), origin_id=id)
        if request.method == "PUT":
            serializer = OriginSniHostInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            with service_errors(field="sni_host"):
                origin_sni_host_update(
                    origin=origin,
                    sni_host=serializer.validated_data["sni_host"],
                    context=self.change_context(),
                )
            domain = selectors.domain_for_user(_user(request), name=domain_name)
            origin = selectors.origin_of(domain, origin_id=origin.pk)
        return Response(OriginSniHostSerializer(origin).data)


# Back-to-origin settings


@extend_schema(
    tags=["origin-fetch"],
    summary="All back-to-origin settings",
    parameters=[DOMAIN_NAME, ETAG],
    responses=OriginFetchSerializer,
)
class OriginFetchView(ApiMixin, viewsets.ViewSet):
    """Every back-to-origin setting of a domain; the ETag is the settings version, for If-Match."""

    def retrieve(self, request: Request, domain_name: str) -> Response:
        domain = selectors.domain_for_user(_user(request), name=domain_name)
        settings = selectors.settings_of(domain)
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
        domain = selectors.domain_for_user(_user(self.request), name=domain_name)
        return domain, selectors.settings_of(domain)

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
    "Refused when it would break an enabled Origin SNI (which needs HTTPS on port 443).",
)
@extend_schema(tags=["origin-fetch"])
class ProtocolView(SettingsSectionView):
    input_serializer = ProtocolInputSerializer
    output_serializer = ProtocolSerializer
    values = staticmethod(protocol_values)

    def save(self, domain: Domain, data: dict[str, Any], **kwargs: Any) -> SettingsChange:
        return origin_protocol_update(
            domain=domain,
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
        return origin_host_update(domain=domain, host=data["origin_host"], **kwargs)


@section_schema(
    "origin certificate verification",
    VerificationSerializer,
    VerificationInputSerializer,
    "Whether the edge verifies the origin's certificate, with extra acceptable common names.",
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


# Revisions


@extend_schema_view(
    list=extend_schema(summary="Revision history, newest first", responses=RevisionSerializer(many=True)),
    retrieve=extend_schema(summary="One revision, with its delivery", responses=RevisionDetailSerializer),
    rollback=extend_schema(
        summary="Roll back to this revision",
        description="Publishes a new revision equal to this one (201). When the configuration already equals "
        "it, nothing changes and the answer is the latest revision (200).",
        request=None,
        responses={201: RevisionSerializer, 200: RevisionSerializer},
    ),
)
@extend_schema(
    tags=["revisions"],
    parameters=[DOMAIN_NAME, OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH)],
)
class RevisionViewSet(ApiMixin, viewsets.GenericViewSet):
    """A domain's config revisions: who changed what, when and from where, and the document delivered."""

    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    pagination_class = PagePagination
    serializer_class = RevisionSerializer

    def _domain(self) -> Domain:
        return selectors.domain_for_user(_user(self.request), name=self.kwargs["domain_name"])

    def list(self, request: Request, domain_name: str) -> Response:
        domain = self._domain()
        page = self.paginate_queryset(selectors.revisions_of(domain))
        revisions = list(page or [])
        context = {"previous": selectors.previous_documents(domain, revisions)}
        return self.get_paginated_response(RevisionSerializer(revisions, many=True, context=context).data)

    def retrieve(self, request: Request, domain_name: str, number: str) -> Response:
        domain = self._domain()
        revision = selectors.revision_of(domain, number=number)
        context = {
            "previous": selectors.previous_documents(domain, [revision]),
            "deployments": _node_rows(selectors.deployments_of(revision)),
        }
        return Response(RevisionDetailSerializer(revision, context=context).data)

    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, domain_name: str, number: str) -> Response:
        domain = self._domain()
        target = selectors.revision_of(domain, number=number)
        try:
            revision = domain_rollback(domain=domain, number=target.number, context=self.change_context())
        except RollbackError as exc:
            raise ShapedError({NON_FIELD: [{"code": "not_restorable", "message": str(exc)}]}) from None
        code = status.HTTP_201_CREATED
        if revision is None:
            code = status.HTTP_200_OK
            revision = selectors.revisions_of(domain).first()
        context = {"previous": selectors.previous_documents(domain, [revision])}
        return Response(RevisionSerializer(revision, context=context).data, status=code)


# Operation log


@extend_schema_view(
    list=extend_schema(
        summary="The account's operation log, newest first",
        parameters=[OperationFilterSerializer],
        responses=OperationSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One operation log entry",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=OperationSerializer,
    ),
)
@extend_schema(tags=["operations"])
class OperationViewSet(ApiMixin, viewsets.GenericViewSet):
    """Every change to your account's domains, from any entry point (console, REST API, OpenAPI, admin)."""

    lookup_value_regex = r"[^/]+"
    lookup_field = "id"
    pagination_class = PagePagination
    serializer_class = OperationSerializer

    def list(self, request: Request) -> Response:
        filters = OperationFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        entries = selectors.operations_for_user(
            _user(request),
            domain=data.get("domain", ""),
            actor=data.get("user", ""),
            action=data.get("action", ""),
            source=data.get("source", ""),
            since=data.get("since"),
            until=data.get("until"),
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(OperationSerializer(page, many=True).data)

    def retrieve(self, request: Request, id: str) -> Response:
        number = selectors.number_in_path(id, what="entry")
        entry = selectors.operations_for_user(_user(request)).filter(pk=number).first()
        if entry is None:
            raise Http404("No such entry.")
        return Response(OperationSerializer(entry).data)


# Edge nodes


@extend_schema_view(
    list=extend_schema(summary="Edge nodes (staff only)", responses=EdgeNodeSerializer(many=True)),
    retrieve=extend_schema(
        summary="One edge node (staff only)",
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=EdgeNodeSerializer,
    ),
)
@extend_schema(tags=["edge-nodes"])
class EdgeNodeViewSet(ApiMixin, viewsets.GenericViewSet):
    """The edge nodes configuration is delivered to; for operators (staff) only. Signing keys never leave."""

    permission_classes = [IsAuthenticated, IsAdminUser]
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    pagination_class = PagePagination
    serializer_class = EdgeNodeSerializer

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(EdgeNode.objects.order_by("name"))
        return self.get_paginated_response(EdgeNodeSerializer(page, many=True).data)

    def retrieve(self, request: Request, name: str) -> Response:
        node = EdgeNode.objects.filter(name=name).first() if "\x00" not in name else None
        if node is None:
            raise Http404("No such edge node.")
        return Response(EdgeNodeSerializer(node).data)


# Unknown URLs


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The API's 404 for a URL that names no resource."""
    message = "No such resource." if request.path.endswith("/") else "No such resource: API URLs end with /."
    body = {"errors": {NON_FIELD: [{"code": "not_found", "message": message}]}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)


# Tokens


@extend_schema(
    tags=["auth"],
    summary="Get your API token",
    description="Exchange a user name and password for the token to send as `Authorization: Token <token>`.",
    request=TokenRequestSerializer,
    responses={200: TokenSerializer},
    auth=[],
)
class TokenView(ApiMixin, viewsets.ViewSet):
    """Exchange a user name and password for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def create(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response(TokenSerializer({"token": token.key}).data)
