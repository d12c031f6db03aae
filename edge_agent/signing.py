"""HMAC-SHA256 signatures of console → agent requests, with the node's key.

Two signatures travel with each request: `X-Edge-Signature` over timestamp, nonce and body, and
`X-Edge-Request-Signature` over timestamp, nonce, method, path and the body's length, which the agent checks
from the headers alone, so that a request not made with the key is refused before its body is read. A read
(GET) is signed the same way over an empty body.

While a node's key is rotated, the console signs with the old and the new key (each header then carries the
signatures comma-separated), and an agent may hold both keys (`KeyRing`, a key file with a key a line): a
request passes when any of its signatures is made with any key the agent holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

SIGNATURE_HEADER = "X-Edge-Signature"
TIMESTAMP_HEADER = "X-Edge-Timestamp"
NONCE_HEADER = "X-Edge-Nonce"
REQUEST_SIGNATURE_HEADER = "X-Edge-Request-Signature"
MAX_SKEW_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed by the holder of the node's key, or not now."""


Keys = str | Sequence[str]


def _keys(keys: Keys) -> tuple[str, ...]:
    return (keys,) if isinstance(keys, str) else tuple(keys)


class KeyRing:
    """The keys an agent accepts: one given, or a key file's non-empty lines, read again when it changes (a
    rotation installs the new key beside the old one, then removes the old one, with no restart)."""

    def __init__(self, key: str = "", *, path: Path | None = None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: tuple[str, ...] = (key,) if key else ()
        if path is not None:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        stat = os.stat(self.path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._keys = tuple(line.strip() for line in self.path.read_text().splitlines() if line.strip())
            self._stamp = stamp

    def keys(self) -> tuple[str, ...]:
        if self.path is not None:
            # A file being replaced cannot be read for a moment: keep the keys read last.
            with contextlib.suppress(OSError):
                self._load()
        return self._keys


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 with `key` over `timestamp\nnonce\nbody`."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def sign_request(key: str, timestamp: str, nonce: str, method: str, path: str, length: int) -> str:
    """Hex HMAC-SHA256 with `key` over what the headers of a request tell before its body is read."""
    message = f"request\n{timestamp}\n{nonce}\n{method.upper()}\n{path}\n{length}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    key: Keys, body: bytes, *, now: float | None = None, method: str = "POST", path: str = "/v1/config"
) -> dict[str, str]:
    """Headers signing a request with `body` at `now` (default: the current time) with a fresh nonce, with
    one key or several (a rotation)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    keys = _keys(key)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: ",".join(sign(k, timestamp, nonce, body) for k in keys),
        REQUEST_SIGNATURE_HEADER: ",".join(
            sign_request(k, timestamp, nonce, method, path, len(body)) for k in keys
        ),
        "Content-Type": "application/json",
    }


def _matches(expected: list[str], signature: str) -> bool:
    """Whether any of the comma-separated `signature`s is one of `expected` (each compared in constant
    time)."""
    given = [part.strip().encode("utf-8", "replace") for part in signature.split(",")[:4]]
    found = False
    for one in expected:
        for candidate in given:
            found |= hmac.compare_digest(one.encode(), candidate)
    return found


def read_headers(key: Keys, path: str) -> dict[str, str]:
    """Headers of a signed read (GET `path`)."""
    headers = signed_headers(key, b"", method="GET", path=path)
    headers.pop("Content-Type")
    return headers


def verify_request(
    key: Keys,
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    length: int,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> None:
    """Check, from the headers alone, that the request was made with the key, now (before reading a body)."""
    timestamp, nonce = _header(headers, TIMESTAMP_HEADER), _header(headers, NONCE_HEADER)
    signature = _header(headers, REQUEST_SIGNATURE_HEADER)
    _check_window(timestamp, nonce, signature, now, max_skew)
    expected = [sign_request(k, timestamp, nonce, method, path, length) for k in _keys(key)]
    if not _matches(expected, signature):
        raise SignatureError("bad signature")


def _check_window(timestamp: str, nonce: str, signature: str, now: float | None, max_skew: int) -> None:
    if not timestamp or not signature or not nonce:
        raise SignatureError("missing signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError("malformed timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > max_skew:
        raise SignatureError("timestamp outside the allowed window")


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
    key: Keys,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Check the signature and the clock window; return the nonce (the caller refuses one seen before)."""
    timestamp, signature = _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER)
    nonce = _header(headers, NONCE_HEADER)
    _check_window(timestamp, nonce, signature, now, max_skew)
    expected = [sign(k, timestamp, nonce, body) for k in _keys(key)]
    if not _matches(expected, signature):
        raise SignatureError("bad signature")
    return nonce
