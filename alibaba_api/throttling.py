"""Flow control of the Alibaba-compatible API, with the vendor's `Throttling.User` and `x-acs-retry-after`.

- Guessing: after ALIBABA_API_FAILURE_LIMIT calls with a wrong signature (or an unknown AccessKey ID) within
  ALIBABA_API_FAILURE_WINDOW seconds, further calls with that AccessKey ID, or from that client address, are
  refused until the window has passed, whatever their signature.
- Rate: at most ALIBABA_API_ACCOUNT_RATE_LIMIT calls per second per account, all its AccessKeys together (the
  vendor counts per user), besides ALIBABA_API_RATE_LIMIT per AccessKey (`alibaba_api.credentials`).

The counters are in the shared cache (Redis), so every web process counts the same calls. A limit of 0 turns
its check off.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from alibaba_api.errors import ApiError

# The signature failures that count as guesses: a wrong secret, an unknown AccessKey ID. A call that is not
# signed at all guesses nothing (a load balancer's health check is one), nor does a wrong clock or a reused
# nonce.
GUESSES = {"SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound"}


def throttled(wait_seconds: float, why: str) -> ApiError:
    return ApiError(
        "Throttling.User",
        f"Request was denied due to user flow control: {why}",
        status=429,
        headers={"x-acs-retry-after": str(max(1, math.ceil(wait_seconds * 1000)))},
        recommend="Wait for the time in x-acs-retry-after (milliseconds), then call again.",
    )


def _failure_key(kind: str, value: str) -> str:
    return f"alibaba_api:failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _failure_limit() -> tuple[int, int]:
    return int(getattr(settings, "ALIBABA_API_FAILURE_LIMIT", 0)), int(
        getattr(settings, "ALIBABA_API_FAILURE_WINDOW", 300)
    )


def refuse_if_locked(*, access_key_id: str = "", address: str = "") -> None:
    """Throttling.User if this AccessKey ID or client address made too many failed calls lately."""
    limit, window = _failure_limit()
    if not limit:
        return
    keys = [_failure_key(kind, value) for kind, value in (("key", access_key_id), ("ip", address)) if value]
    found = cache.get_many(keys + [key + ":since" for key in keys])
    for key in keys:
        if found.get(key, 0) >= limit:
            since = float(found.get(key + ":since", time.time()))
            what = "this AccessKey" if ":key:" in key else "this client address"
            raise throttled(
                since + window - time.time(), f"too many calls with a wrong signature from {what}."
            )


def record_failure(*, access_key_id: str, address: str) -> None:
    """Count a call refused for its signature or its unknown AccessKey ID."""
    limit, window = _failure_limit()
    if not limit:
        return
    for kind, value in (("key", access_key_id), ("ip", address)):
        if not value:
            continue
        key = _failure_key(kind, value)
        if cache.add(key, 0, timeout=window):
            cache.set(key + ":since", time.time(), timeout=window)
        cache.incr(key)


def refuse_over_account_rate(account_id: int) -> None:
    """Throttling.User past ALIBABA_API_ACCOUNT_RATE_LIMIT calls in this second for the account."""
    limit = int(getattr(settings, "ALIBABA_API_ACCOUNT_RATE_LIMIT", 0))
    if not limit:
        return
    now = time.time()
    key = f"alibaba_api:rate:account:{account_id}:{int(now)}"
    cache.add(key, 0, timeout=2)
    if cache.incr(key) > limit:
        raise throttled(int(now) + 1 - now, f"more than {limit} calls per second for this account.")
