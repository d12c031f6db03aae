"""REST API: edge nodes, for operators (staff) only."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import ApiMixin
from api.pagination import PagePagination
from api.serializers import EdgeNodeSerializer
from edge.models import EdgeNode


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
