"""OpenAPI generation: every operation documents the error responses it can return, in the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAdminUser

from api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid request: each error names the field and the rule.",
    "401": "Not authenticated: send `Authorization: Token <key>` or log in.",
    "403": "Not allowed: a write by a viewer (read-only role), a staff-only resource, or a write with a "
    "session but without the CSRF token.",
    "404": "No such resource in your account.",
}


class ApiSchema(AutoSchema):
    """Adds the 400, 401, 403 and 404 responses an operation can produce to what it declares."""

    def get_override_parameters(self) -> list[Any]:
        """The declared parameters, less path parameters this operation's path does not have."""
        return [
            parameter
            for parameter in super().get_override_parameters()
            if not (
                isinstance(parameter, OpenApiParameter)
                and parameter.location == OpenApiParameter.PATH
                and f"{{{parameter.name}}}" not in self.path
            )
        ]

    def _paginated(self) -> bool:
        return self._is_list_view() and getattr(self.view, "pagination_class", None) is not None

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH", "DELETE") or self._paginated() or self._declares_query():
            codes.append("400")
        permissions = self.view.permission_classes
        if AllowAny not in permissions:
            codes.append("401")
            if self.method not in SAFE_METHODS or IsAdminUser in permissions:
                codes.append("403")
        if "{" in self.path or self._paginated():
            codes.append("404")
        return codes

    def _declares_query(self) -> bool:
        """Whether the operation reads query parameters, which it may find invalid."""
        return any(
            not isinstance(parameter, OpenApiParameter) or parameter.location == OpenApiParameter.QUERY
            for parameter in self.get_override_parameters()
        )

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code
                )
        return responses
