"""Alibaba Cloud OpenAPI request signatures: ACS3-HMAC-SHA256 ("V3") and HMAC-SHA1 RPC ("V1").

Pure code, no Django and no I/O. The API view turns an HTTP request into a `SignedRequest`, calls `verify()`
and maps a `SignatureError` to the vendor error body. The wire rules are those of ALIBABA_API.md, "Signature
checks"; `sign_v3()` and `sign_v1()` produce requests the same way the official SDKs do (tests, benchmarks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

V3_ALGORITHM = "ACS3-HMAC-SHA256"
V1_SIGNATURE_METHOD = "HMAC-SHA1"
V1_SIGNATURE_VERSION = "1.0"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_MAX_SKEW_SECONDS = 900

# Headers a V3 request must sign (ALIBABA_API.md step 8); the SDK signs a few more, which we accept.
V3_REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
# V1 parameters that belong to the signature protocol rather than to the call.
V1_SIGNATURE_FIELDS = frozenset(
    {
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "AccessKeyId",
        "Timestamp",
    }
)
_V1_REQUIRED_FIELDS = ("AccessKeyId", "SignatureMethod", "SignatureNonce", "Timestamp", "Signature")
_V3_AUTHORIZATION_PARTS = ("Credential", "SignedHeaders", "Signature")

SIGNATURE_MISMATCH_MESSAGE = "Specified signature is not matched with our calculation."
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_JSON_CONTENT_TYPE = "application/json"

_STATUS_BY_CODE = {"InvalidAccessKeyId.NotFound": 404}

QueryPairs = list[tuple[str, str]]


class SignatureError(Exception):
    """A request that fails authentication, with the vendor error code and HTTP status to answer with."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else _STATUS_BY_CODE.get(code, 400)


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request a signature covers; header names lower-case, query pairs decoded."""

    method: str
    path: str
    query: QueryPairs
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class VerifiedRequest:
    """An authenticated call: who made it, how it was signed and its business parameters."""

    access_key_id: str
    style: str  # "v3" or "v1"
    params: dict[str, str]
    action: str | None
    version: str | None
    nonce: str
    timestamp: datetime


def parse_query(raw: str) -> QueryPairs:
    """Split a raw query string (or form body) into decoded pairs, in order, duplicates and blanks kept."""
    return parse_qsl(raw, keep_blank_values=True)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: only `A-Z a-z 0-9 - _ . ~` stay literal (space is %20, `*` is %2A)."""
    return quote(value, safe="", encoding="utf-8", errors="surrogatepass")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode every key and value, sort by key then value, join `k=v` with `&`."""
    encoded = sorted((percent_encode(key), percent_encode(value)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def verify(
    request: SignedRequest,
    *,
    secret_for: Callable[[str], str | None],
    now: datetime | None = None,
    check_clock: bool = True,
    nonce_seen: Callable[[str, str], bool] | None = None,
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
) -> VerifiedRequest:
    """Authenticate a V3 or V1 request, or raise `SignatureError`.

    `secret_for(access_key_id)` returns the secret or None. `nonce_seen(access_key_id, nonce)` answers whether
    the nonce was used before and records it; it is consulted only once signature and clock are good.
    """
    authorization = request.headers.get("authorization", "")
    if authorization.startswith(V3_ALGORITHM):
        verified = _verify_v3(request, authorization, secret_for)
    else:
        v1_pairs = list(request.query) + body_pairs(request)
        if not any(key == "Signature" for key, _ in v1_pairs):
            if authorization:
                raise SignatureError(
                    "IncompleteSignature", f"Unsupported Authorization scheme; use {V3_ALGORITHM}."
                )
            raise SignatureError(
                "IncompleteSignature",
                "The request is not signed: no Authorization header and no Signature parameter.",
            )
        verified = _verify_v1(request, v1_pairs, secret_for)
    if check_clock:
        _check_clock(verified.timestamp, now=now, max_skew_seconds=max_skew_seconds)
    if nonce_seen is not None and nonce_seen(verified.access_key_id, verified.nonce):
        raise SignatureError(
            "SignatureNonceUsed", f"The signature nonce {verified.nonce!r} has already been used."
        )
    return verified


def sign_v3(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] | Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
) -> dict[str, str]:
    """Return the headers to add (`x-acs-content-sha256`, `authorization`); every given header is signed."""
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    content_sha256 = hashlib.sha256(body).hexdigest()
    lowered = {name.lower(): value for name, value in headers.items() if name.lower() != "authorization"}
    lowered["x-acs-content-sha256"] = content_sha256
    signed_headers = sorted(lowered)
    signature = _v3_signature(
        secret,
        _v3_string_to_sign(method, path, pairs, lowered, signed_headers, content_sha256),
    )
    authorization = (
        f"{V3_ALGORITHM} Credential={access_key_id},"
        f"SignedHeaders={';'.join(signed_headers)},Signature={signature}"
    )
    return {"x-acs-content-sha256": content_sha256, "authorization": authorization}


def sign_v1(
    *,
    method: str,
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    nonce: str,
    timestamp: datetime,
) -> dict[str, str]:
    """Return `params` plus the V1 protocol fields and `Signature`, for the query string or a form body."""
    signed = {key: value for key, value in params.items() if key != "Signature"}
    signed.update(
        AccessKeyId=access_key_id,
        SignatureMethod=V1_SIGNATURE_METHOD,
        SignatureVersion=V1_SIGNATURE_VERSION,
        SignatureNonce=nonce,
        Timestamp=format_timestamp(timestamp),
    )
    signed["Signature"] = _v1_signature(secret, _v1_string_to_sign(method, signed.items()))
    return signed


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC as the SDKs send it (`2026-11-22T14:53:17Z`); a naive datetime is taken as UTC."""
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _verify_v3(
    request: SignedRequest, authorization: str, secret_for: Callable[[str], str | None]
) -> VerifiedRequest:
    access_key_id, signed_headers, signature = _parse_authorization(authorization)
    unsigned = [name for name in V3_REQUIRED_SIGNED_HEADERS if name not in signed_headers]
    if unsigned:
        raise SignatureError("IncompleteSignature", f"SignedHeaders must include: {', '.join(unsigned)}.")
    absent = [name for name in signed_headers if name not in request.headers]
    if absent:
        raise SignatureError(
            "IncompleteSignature", f"Signed headers missing from the request: {', '.join(absent)}."
        )
    nonce = request.headers["x-acs-signature-nonce"].strip()
    if not nonce:
        raise SignatureError("IncompleteSignature", "The x-acs-signature-nonce header is empty.")

    secret = _secret(secret_for, access_key_id)
    content_sha256 = request.headers["x-acs-content-sha256"].strip()
    if not _same(content_sha256, hashlib.sha256(request.body).hexdigest()):
        raise SignatureError(
            "SignatureDoesNotMatch",
            f"{SIGNATURE_MISMATCH_MESSAGE} x-acs-content-sha256 is not the SHA-256 of the request body.",
        )
    string_to_sign = _v3_string_to_sign(
        request.method, request.path, request.query, request.headers, signed_headers, content_sha256
    )
    if not _same(signature, _v3_signature(secret, string_to_sign)):
        raise SignatureError(
            "SignatureDoesNotMatch", f"{SIGNATURE_MISMATCH_MESSAGE} server StringToSign is [{string_to_sign}]"
        )

    params = dict(request.query)
    params.update(body_pairs(request))
    return VerifiedRequest(
        access_key_id=access_key_id,
        style="v3",
        params=params,
        action=request.headers["x-acs-action"].strip() or None,
        version=request.headers["x-acs-version"].strip() or None,
        nonce=nonce,
        timestamp=_parse_timestamp(request.headers["x-acs-date"].strip(), "x-acs-date"),
    )


def _verify_v1(
    request: SignedRequest, pairs: QueryPairs, secret_for: Callable[[str], str | None]
) -> VerifiedRequest:
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in V1_SIGNATURE_FIELDS:
            if key in fields:
                raise SignatureError("IncompleteSignature", f"The parameter {key} is given more than once.")
            fields[key] = value
    missing = [name for name in _V1_REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise SignatureError("IncompleteSignature", f"Missing signature parameters: {', '.join(missing)}.")
    if fields["SignatureMethod"] != V1_SIGNATURE_METHOD:
        raise SignatureError(
            "IncompleteSignature",
            f"Unsupported SignatureMethod {fields['SignatureMethod']!r}; use {V1_SIGNATURE_METHOD}.",
        )

    access_key_id = fields["AccessKeyId"]
    secret = _secret(secret_for, access_key_id)
    string_to_sign = _v1_string_to_sign(request.method, ((k, v) for k, v in pairs if k != "Signature"))
    if not _same(fields["Signature"], _v1_signature(secret, string_to_sign)):
        raise SignatureError(
            "SignatureDoesNotMatch", f"{SIGNATURE_MISMATCH_MESSAGE} server string to sign is:{string_to_sign}"
        )

    params = {key: value for key, value in pairs if key not in V1_SIGNATURE_FIELDS}
    return VerifiedRequest(
        access_key_id=access_key_id,
        style="v1",
        params=params,
        action=params.get("Action") or None,
        version=params.get("Version") or None,
        nonce=fields["SignatureNonce"],
        timestamp=_parse_timestamp(fields["Timestamp"], "Timestamp"),
    )


def _parse_authorization(value: str) -> tuple[str, list[str], str]:
    """`ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=a;b,Signature=hex` -> (key id, headers, signature)."""
    scheme, _, rest = value.partition(" ")
    if scheme != V3_ALGORITHM:
        raise SignatureError(
            "IncompleteSignature", f"The Authorization header must start with '{V3_ALGORITHM} '."
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, part = item.strip().partition("=")
        if not sep or name in parts:
            raise SignatureError("IncompleteSignature", f"Malformed Authorization element {item.strip()!r}.")
        parts[name] = part.strip()
    missing = [name for name in _V3_AUTHORIZATION_PARTS if not parts.get(name)]
    if missing:
        raise SignatureError("IncompleteSignature", f"The Authorization header lacks {', '.join(missing)}.")
    signed_headers = [name.strip().lower() for name in parts["SignedHeaders"].split(";")]
    if not all(signed_headers) or len(set(signed_headers)) != len(signed_headers):
        raise SignatureError("IncompleteSignature", "SignedHeaders has an empty or repeated name.")
    return parts["Credential"], signed_headers, parts["Signature"]


def _v3_string_to_sign(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: list[str],
    content_sha256: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    canonical_request = "\n".join(
        [method, path, canonical_query(query), canonical_headers, ";".join(signed_headers), content_sha256]
    )
    return f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"


def _v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def _v1_string_to_sign(method: str, pairs: Iterable[tuple[str, str]]) -> str:
    return f"{method}&%2F&{percent_encode(canonical_query(pairs))}"


def _v1_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def body_pairs(request: SignedRequest) -> QueryPairs:
    """Parameters of a POST body: a form (`application/x-www-form-urlencoded`) or a JSON object
    (`application/json`, each value a string, a number or a boolean as its text, anything else as JSON).

    Any other body carries no parameters. A V3 signature covers the body through its SHA-256; a V1 signature
    covers these parameters with those of the query.
    """
    content_type = request.headers.get("content-type", "").strip().lower()
    if request.method != "POST" or not request.body:
        return []
    if content_type.startswith(_FORM_CONTENT_TYPE):
        return parse_query(request.body.decode("utf-8", errors="replace"))
    if not content_type.startswith(_JSON_CONTENT_TYPE):
        return []
    try:
        data = json.loads(request.body)
    except ValueError as exc:
        raise SignatureError("InvalidParameter", f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise SignatureError("InvalidParameter", "A JSON request body must be an object of parameters.")
    return [(str(key), _json_text(value)) for key, value in data.items()]


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _secret(secret_for: Callable[[str], str | None], access_key_id: str) -> str:
    secret = secret_for(access_key_id)
    if not secret:
        raise SignatureError(
            "InvalidAccessKeyId.NotFound", f"Specified access key {access_key_id!r} is not found."
        )
    return secret


def _parse_timestamp(value: str, source: str) -> datetime:
    """Parse `yyyy-MM-ddTHH:mm:ssZ` (fractions allowed) into an aware UTC datetime."""
    try:
        if not _TIMESTAMP_RE.fullmatch(value):
            raise ValueError(value)
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format",
            f"{source} {value!r} is not an ISO 8601 UTC time like 2026-01-31T12:00:00Z.",
        ) from None


def _check_clock(timestamp: datetime, *, now: datetime | None, max_skew_seconds: int) -> None:
    current = _as_utc(now) if now is not None else datetime.now(UTC)
    skew = (current - timestamp).total_seconds()
    if abs(skew) > max_skew_seconds:
        raise SignatureError(
            "InvalidTimeStamp.Expired",
            f"Specified time stamp {format_timestamp(timestamp)} is {abs(skew):.0f}s "
            f"{'behind' if skew > 0 else 'ahead of'} the server time; "
            f"at most {max_skew_seconds}s are allowed.",
        )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings of any content."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
