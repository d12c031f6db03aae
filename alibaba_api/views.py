"""The Alibaba-compatible OpenAPI at `/` of the console (ALIBABA_API.md)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.audit import ChangeContext
from accounts.models import Source
from alibaba_api import credentials, throttling
from alibaba_api.actions import PRODUCT_BY_VERSION, ApiCall, action_for
from alibaba_api.credentials import Credential
from alibaba_api.errors import ApiError, missing_parameter
from alibaba_api.signatures import V3_ALGORITHM, SignatureError, SignedRequest, parse_query, verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
JSON_CONTENT_TYPE = "application/json;charset=utf-8"

_RECOMMEND = {
    "SignatureDoesNotMatch": "Check the secret, and that the Host header reaches the console unchanged.",
    "InvalidTimeStamp.Expired": "Check the clock of the calling machine: it must be within 15 minutes.",
    "SignatureNonceUsed": "Use a new SignatureNonce for every request.",
    "InvalidAccessKeyId.NotFound": "Check the AccessKey ID, or create one in the console.",
}


def is_api_call(request: HttpRequest) -> bool:
    """Whether a request to `/` is an OpenAPI call (V3 headers, V1 query, or any POST: the page only answers
    GET, and a V1 call may carry its signature in a form body) rather than a page visit."""
    return (
        request.method == "POST"
        or "x-acs-action" in request.headers
        or request.headers.get("Authorization", "").startswith(V3_ALGORITHM)
        or "Signature" in request.GET
        or "Action" in request.GET
    )


@csrf_exempt
def api_entry(request: HttpRequest) -> HttpResponse:
    """Authenticate a signed call, dispatch its action, and answer in the vendor's JSON shapes."""
    request_id = str(uuid.uuid4()).upper()
    try:
        body = _handle(request)
    except SignatureError as exc:
        return _error(request, request_id, ApiError(exc.code, exc.message, status=exc.http_status))
    except ApiError as exc:
        return _error(request, request_id, exc)
    except OperationalError:
        logger.warning("OpenAPI call %s hit a database error", request_id, exc_info=True)
        error = ApiError(
            "ServiceBusy", "The request failed because the service is busy; try again later.", status=403
        )
        return _error(request, request_id, error)
    except Exception:
        logger.exception("OpenAPI call %s failed", request_id)
        error = ApiError(
            "InternalError", "The request processing has failed due to some unknown error.", status=500
        )
        return _error(request, request_id, error)
    return _json({"RequestId": request_id, **body}, request_id=request_id)


def _handle(request: HttpRequest) -> dict[str, Any]:
    if request.method not in ("GET", "POST"):
        raise ApiError(
            "UnsupportedHTTPMethod",
            f"The HTTP method {request.method} is not supported; use POST.",
            status=405,
        )
    signed = _signed_request(request)
    address = request.META.get("REMOTE_ADDR") or ""
    found: list[Credential] = []
    asked: list[str] = []

    def secret_for(access_key_id: str) -> str | None:
        asked.append(access_key_id)
        # The client address and the AccessKey ID, in one round trip to the counters.
        throttling.refuse_if_locked(access_key_id=access_key_id, address=address)
        credential = credentials.credential_for(access_key_id)
        if credential is None:
            return None
        found.append(credential)
        return credential.secret

    try:
        verified = verify(signed, secret_for=secret_for, nonce_seen=_nonce_seen)
    except SignatureError as exc:
        if not asked:  # refused before its AccessKey ID was read: a locked address hears that first
            throttling.refuse_if_locked(address=address)
        if exc.code in throttling.GUESSES:
            throttling.record_failure(access_key_id=asked[-1] if asked else "", address=address)
        raise
    credential = found[-1]
    if not credential.enabled:
        raise ApiError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    if not credential.member:
        raise ApiError(
            "InvalidAccessKeyId.Inactive",
            "The user of this access key is inactive or no longer a member of the key's account.",
        )
    throttling.refuse_over_account_rate(credential.account_id)
    wait_ms = credentials.throttle_wait_ms(credential.access_key_id)
    if wait_ms:
        raise ApiError(
            "Throttling",
            "Request was denied due to user flow control.",
            status=429,
            headers={"x-acs-retry-after": str(wait_ms)},
        )

    if not verified.action:
        raise missing_parameter("Action")
    if not verified.version:
        raise missing_parameter("Version")
    action = action_for(verified.version, verified.action)
    if action.writes and not credential.can_write:
        raise ApiError(
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource: "
            f"{verified.action} changes configuration, and this AccessKey's user has a read-only role.",
            status=403,
        )
    credentials.touch(credential)
    call = ApiCall(
        params=verified.params,
        credential=credential,
        context=ChangeContext(
            user=credential.user, source=Source.OPENAPI, remote_addr=request.META.get("REMOTE_ADDR") or None
        ),
        product=PRODUCT_BY_VERSION[verified.version],
    )
    return action.handler(call)


def _signed_request(request: HttpRequest) -> SignedRequest:
    return SignedRequest(
        method=request.method or "",
        path=request.path,
        query=parse_query(_query_string(request)),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=_body(request),
    )


def _too_large() -> ApiError:
    return ApiError(
        "RequestEntityTooLarge",
        f"The request body is larger than {MAX_BODY_BYTES} bytes, the most this API reads.",
        status=413,
    )


def _body(request: HttpRequest) -> bytes:
    """The body as the official clients frame it, with `Content-Length` or chunked, never read past the limit.

    A declared length over the limit is refused before anything is read; a chunked body is read up to one
    byte past the limit, and refused then. Chunked bodies need a server that decodes the framing and says so
    (`wsgi.input_terminated`, as gunicorn does); any other refuses them rather than read them wrong.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise _too_large()
    if length:
        return request.read(length)
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return b""
    if not request.META.get("wsgi.input_terminated"):
        raise ApiError(
            "MissingContentLength",
            "This server cannot read a chunked request body: send it with a Content-Length header.",
            status=411,
        )
    body = request.META["wsgi.input"].read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    return body


def _query_string(request: HttpRequest) -> str:
    """The raw query string; WSGI hands it over as latin-1, so undo that for any raw UTF-8 bytes."""
    raw = request.META.get("QUERY_STRING", "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _nonce_seen(access_key_id: str, nonce: str) -> bool:
    try:
        return credentials.nonce_seen(access_key_id, nonce)
    except Exception as exc:
        logger.error("The nonce store is unavailable: %s", exc)
        raise ApiError(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
            status=503,
        ) from exc


def _host(request: HttpRequest) -> str:
    try:
        return request.get_host()
    except Exception:
        return ""


def _error(request: HttpRequest, request_id: str, error: ApiError) -> HttpResponse:
    body = {
        "RequestId": request_id,
        "HostId": _host(request),
        "Code": error.code,
        "Message": error.message,
        "Recommend": error.recommend or _RECOMMEND.get(error.code, ""),
    }
    return _json(body, request_id=request_id, status=error.status, headers=error.headers)


def _json(
    body: dict[str, Any], *, request_id: str, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers={"x-acs-request-id": request_id, **(headers or {})},
    )
