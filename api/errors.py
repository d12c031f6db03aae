"""The one error shape of the REST API, and the translation of service errors into it.

Every error response, whatever its status, has the body

    {"errors": {"<field>": [{"code": "<rule>", "message": "<text>"}]}}

`<field>` names the request field at fault (dotted for nested ones, such as `origins.0.address`), or is
`non_field_errors` when the error concerns the request as a whole (authentication, permission, a missing
resource, a stale version). `code` is a stable identifier of the rule; `message` is for people.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from origin_fetch.services import StaleVersionError

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
ErrorMap = dict[str, list[dict[str, str]]]


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable identifier of the rule that failed.")
    message = serializers.CharField(help_text="What went wrong, for people.")


class ErrorSerializer(serializers.Serializer):
    """Every error response: `{"errors": {"<field>": [{"code": "<rule>", "message": "<text>"}]}}`.

    `<field>` is the request field at fault, dotted for nested ones (`origins.0.address`), or
    `non_field_errors` for the request as a whole (authentication, permission, a missing resource, a stale
    If-Match). `code` names the rule that failed, such as `wildcard` for a wildcard SNI.
    """

    errors = serializers.DictField(
        child=ErrorItemSerializer(many=True),
        help_text="Errors by request field (dotted for nested fields); `non_field_errors` for the request "
        "as a whole.",
    )


class ShapedError(exceptions.APIException):
    """An error already in the API's shape."""

    def __init__(self, errors: ErrorMap, *, status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__()
        self.errors = errors
        self.status_code = status_code


class PreconditionFailed(ShapedError):
    """The If-Match header names a version other than the current one (RFC 9110 §13.1.1)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            {NON_FIELD: [{"code": "stale", "message": message}]},
            status_code=status.HTTP_412_PRECONDITION_FAILED,
        )


def django_errors(exc: DjangoValidationError, *, field: str = NON_FIELD) -> ErrorMap:
    """A service's ValidationError by field; an error without a field goes under `field`."""
    grouped: Mapping[str, list[DjangoValidationError]] = (
        exc.error_dict if hasattr(exc, "error_dict") else {field: exc.error_list}
    )
    result: ErrorMap = {}
    for key, errors in grouped.items():
        items = result.setdefault(NON_FIELD if key == "__all__" else key, [])
        for error in errors:
            for single in error.error_list:
                message = single.message % single.params if single.params else single.message
                items.append({"code": single.code or "invalid", "message": str(message)})
    return result


def drf_errors(detail: Any, prefix: str = "") -> ErrorMap:
    """DRF's nested error details flattened to dotted field names."""
    result: ErrorMap = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub_key, items in drf_errors(value, name).items():
                result.setdefault(sub_key, []).extend(items)
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            key = prefix or NON_FIELD
            result[key] = [
                {"code": getattr(item, "code", "invalid"), "message": str(item)} for item in detail
            ]
        else:
            for index, value in enumerate(detail):
                for sub_key, items in drf_errors(
                    value, f"{prefix}.{index}" if prefix else str(index)
                ).items():
                    result.setdefault(sub_key, []).extend(items)
    else:
        key = prefix or NON_FIELD
        result[key] = [{"code": getattr(detail, "code", "invalid"), "message": str(detail)}]
    return result


@contextmanager
def service_errors(*, field: str = NON_FIELD, strip_prefix: str = "") -> Iterator[None]:
    """Turn the ValidationError of a service call into a 400 (a stale version into a 412).

    `field` receives errors that name no field; `strip_prefix` (a regex-free prefix such as `origins.`) drops
    the list position of errors reported for one item of a list, so they name the item's own field.
    """
    try:
        yield
    except StaleVersionError as exc:
        raise PreconditionFailed(str(exc.message)) from None
    except DjangoValidationError as exc:
        errors = django_errors(exc, field=field)
        if strip_prefix:
            errors = _strip(errors, strip_prefix)
        raise ShapedError(errors) from None


def _strip(errors: ErrorMap, prefix: str) -> ErrorMap:
    result: ErrorMap = {}
    for key, items in errors.items():
        name = key
        if key == prefix.rstrip("."):
            name = NON_FIELD
        elif key.startswith(prefix):
            _index, _dot, rest = key[len(prefix) :].partition(".")
            name = rest or NON_FIELD
        result.setdefault(name, []).extend(items)
    return result


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error the API returns, in the one shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, StaleVersionError):
        exc = PreconditionFailed(str(exc.message))
    elif isinstance(exc, DjangoValidationError):
        exc = ShapedError(django_errors(exc))
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{max(1, math.ceil(exc.wait))}"  # type: ignore[attr-defined]
    if isinstance(exc, ShapedError):
        errors = exc.errors
    elif isinstance(exc, exceptions.ValidationError):
        errors = drf_errors(exc.detail)
    else:
        errors = drf_errors([exc.detail] if not isinstance(exc.detail, list | dict) else exc.detail)
    set_rollback()
    return Response({"errors": errors}, status=exc.status_code, headers=headers)
