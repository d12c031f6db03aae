"""HMAC-SHA256 signatures of console → agent pushes, over timestamp, nonce and body, with the node's key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Edge-Signature"
TIMESTAMP_HEADER = "X-Edge-Timestamp"
NONCE_HEADER = "X-Edge-Nonce"
MAX_SKEW_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed by the holder of the node's key, or not now."""


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 with `key` over `timestamp\nnonce\nbody`."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(key: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Headers signing `body` at `now` (default: the current time) with a fresh nonce."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(key, timestamp, nonce, body),
        "Content-Type": "application/json",
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def verify(
    key: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Check the signature and the clock window; return the nonce (the caller refuses one seen before)."""
    timestamp, signature = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
    nonce = _header(headers, NONCE_HEADER)
    if not timestamp or not signature or not nonce:
        raise SignatureError("missing signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError("malformed timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > max_skew:
        raise SignatureError("timestamp outside the allowed window")
    expected = sign(key, timestamp, nonce, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise SignatureError("bad signature")
    return nonce
