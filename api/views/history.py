"""REST API: a domain's config revisions and rollback."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.base import ApiMixin
from api.errors import NON_FIELD, ShapedError
from api.pagination import PagePagination
from api.serializers import RevisionDetailSerializer, RevisionSerializer
from api.views.common import DOMAIN_NAME, node_rows, user_of
from domains.models import Domain
from origin_fetch.history import RollbackError, domain_rollback


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
        return selectors.domain_for_user(user_of(self.request), name=self.kwargs["domain_name"])

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
            "deployments": node_rows(selectors.deployments_of(revision)),
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
