"""REST API: a domain (list, add, delete, disable, enable, delivery) and its origins."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import membership_for
from api import selectors
from api.base import ApiMixin
from api.errors import service_errors
from api.pagination import PagePagination
from api.serializers import (
    DeliveryProgressSerializer,
    DomainCreateSerializer,
    DomainFilterSerializer,
    DomainSerializer,
    OriginInputSerializer,
    OriginSerializer,
    OriginSniHostInputSerializer,
    OriginSniHostSerializer,
)
from api.views.common import DOMAIN_NAME, node_rows, user_of
from domains.models import Domain
from domains.origin_services import OriginInput, origin_add, origin_remove, origin_update
from domains.services import domain_create, domain_delete, domain_disable, domain_enable
from edge.selectors import delivery_progress
from origin_fetch.origin_sni_host import origin_sni_host_update


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
        return selectors.domain_for_user(user_of(self.request), name=name)

    def list(self, request: Request) -> Response:
        filters = DomainFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        domains = selectors.domain_list(
            user_of(request),
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
        membership = membership_for(user_of(request))
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
        applied, total, rows = delivery_progress(domain_id=domain.pk, number=domain.config_revision)
        progress = {
            "revision": domain.config_revision,
            "status": domain.status,
            "applied": applied,
            "total": total,
            "nodes": node_rows(rows),
        }
        return Response(DeliveryProgressSerializer(progress).data)


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
        return selectors.domain_for_user(user_of(self.request), name=self.kwargs["domain_name"])

    def _origin_response(self, domain_name: str, origin_id: int, code: int = status.HTTP_200_OK) -> Response:
        domain = selectors.domain_for_user(user_of(self.request), name=domain_name)
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
            domain = selectors.domain_for_user(user_of(request), name=domain_name)
            origin = selectors.origin_of(domain, origin_id=origin.pk)
        return Response(OriginSniHostSerializer(origin).data)
