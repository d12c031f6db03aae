"""What the REST API's views share: path and header parameters of the schema, and small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.request import Request

from api.errors import NON_FIELD, ErrorSerializer
from edge.selectors import NodeProgress

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


def user_of(request: Request) -> AbstractBaseUser:
    return request.user  # type: ignore[return-value]


def node_rows(deployments: Iterable[NodeProgress]) -> list[dict[str, Any]]:
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


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The API's 404 for a URL that names no resource."""
    message = "No such resource." if request.path.endswith("/") else "No such resource: API URLs end with /."
    body = {"errors": {NON_FIELD: [{"code": "not_found", "message": message}]}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
