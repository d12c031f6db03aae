"""REST API: the account's operation log."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.base import ApiMixin
from api.pagination import PagePagination
from api.serializers import OperationFilterSerializer, OperationSerializer
from api.views.common import user_of


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
            user_of(request),
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
        entry = selectors.operations_for_user(user_of(request)).filter(pk=number).first()
        if entry is None:
            raise Http404("No such entry.")
        return Response(OperationSerializer(entry).data)
