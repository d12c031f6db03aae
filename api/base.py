"""What every REST API view shares: authentication, the write-role check, the error shape, ETags."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from accounts.access import membership_for
from accounts.audit import ChangeContext
from accounts.models import Source
from api.errors import PreconditionFailed, api_exception_handler
from api.schema import ApiSchema
from api.throttling import AnonThrottle, UserThrottle
from api.tokens import HashedTokenAuthentication


class WritesNeedWriteRole(BasePermission):
    """Reads for every member; writes for owners and administrators only (viewers get 403)."""

    message = _("Your role is read-only: ask an owner or administrator of the account.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        membership = membership_for(request.user)
        return membership is not None and membership.can_write


class ApiMixin:
    """Token first, so an anonymous request gets 401 with `WWW-Authenticate: Token`; JSON in and out."""

    authentication_classes = [HashedTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, WritesNeedWriteRole]
    throttle_classes = [UserThrottle, AnonThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = ApiSchema()

    request: Request

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def change_context(self) -> ChangeContext:
        return ChangeContext.from_request(cast(HttpRequest, self.request), source=Source.REST)


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request, current: int) -> int | None:
    """The version an If-Match header requires, or None without one (or with `*`).

    If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak tag never matches. A header that names
    no current tag is refused at once with 412; the service refuses again if the settings change meanwhile.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags:
        return None
    if etag(current) in tags:
        return current
    raise PreconditionFailed(
        str(
            _(
                "The settings changed since you read them (If-Match %(sent)s, current ETag %(current)s). "
                "Read them again and re-apply your change."
            )
            % {"sent": header.strip()[:100], "current": etag(current)}
        )
    )
