"""Who signs a call: AccessKey lookups cached briefly in process memory, nonces, and usage bookkeeping.

The secret is decrypted once per key and process and kept for at most `CACHE_SECONDS`. Every web process
(gunicorn runs several) keeps its own copy, so `forget` also moves a version stamp in the shared cache
(Redis, or the file cache of the embedded setup): each lookup reads the stamps of the key and of "all keys"
in one round trip and reloads from the database when they moved. A disabled or deleted key is therefore
refused by every process on its next call, not `CACHE_SECONDS` later. `forget` inside a transaction stamps
again once it commits, so no process can cache the rows as they were before the commit. If the shared cache
is unreachable, lookups fall back to the time limit alone.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from alibaba_api.crypto import SecretUnreadable, decrypt_secret
from alibaba_api.signatures import DEFAULT_MAX_SKEW_SECONDS

logger = logging.getLogger(__name__)

CACHE_SECONDS = 5.0
TOUCH_SECONDS = 60.0
# A nonce must be remembered as long as a request carrying it can pass the clock check: a timestamp may
# be up to the allowed skew ahead of or behind the server time.
NONCE_SECONDS = 2 * DEFAULT_MAX_SKEW_SECONDS


@dataclass(frozen=True)
class Credential:
    """An AccessKey as the API needs it: the secret, its owner, and what the owner may do."""

    pk: int
    access_key_id: str
    secret: str
    user: AbstractBaseUser
    account_id: int
    enabled: bool
    # The owner is active and still a member of the key's account.
    member: bool
    can_write: bool


# The shared stamps outlive any process's cached entry many times over: a stamp that expired and came back
# to "absent" while an entry made under "absent" is still cached would let that entry pass as current.
STAMP_SECONDS = 3600
_ALL_STAMP = "alibaba_api:credentials:stamp"
_KEY_STAMP = "alibaba_api:credentials:stamp:"

Stamps = tuple[str | None, str | None]

_cache: dict[str, tuple[float, Stamps | None, Credential | None]] = {}
_touched: dict[str, float] = {}


def _stamps(access_key_id: str) -> Stamps | None:
    """The shared version stamps of all keys and of this key; None when the shared cache is unreachable."""
    try:
        found = cache.get_many([_ALL_STAMP, _KEY_STAMP + access_key_id])
    except Exception:  # noqa: BLE001 - an outage of the cache must not stop the API: fall back to the TTL
        logger.warning("The shared cache is unreachable; cached AccessKeys live up to %ss", CACHE_SECONDS)
        return None
    return found.get(_ALL_STAMP), found.get(_KEY_STAMP + access_key_id)


def credential_for(access_key_id: str) -> Credential | None:
    """The credential of an AccessKey ID, or None for an unknown (or unreadable) key."""
    if not access_key_id or len(access_key_id) > 64:
        return None
    now = time.monotonic()
    stamps = _stamps(access_key_id)
    hit = _cache.get(access_key_id)
    # Without the shared cache (stamps None), an entry is trusted for its time limit alone.
    if hit is not None and hit[0] > now and (stamps is None or hit[1] == stamps):
        return hit[2]
    credential = _load(access_key_id)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[access_key_id] = (now + CACHE_SECONDS, stamps, credential)
    return credential


def _load(access_key_id: str) -> Credential | None:
    from accounts.access import membership_for
    from alibaba_api.models import AccessKey

    key = (
        AccessKey.objects.select_related("user", "user__membership")
        .filter(access_key_id=access_key_id)
        .first()
    )
    if key is None:
        return None
    try:
        secret = decrypt_secret(key.secret_encrypted)
    except SecretUnreadable:
        logger.error(
            "The secret of AccessKey %s cannot be decrypted (was SECRET_KEY changed?)", access_key_id
        )
        return None
    membership = membership_for(key.user)
    member = bool(key.user.is_active and membership is not None and membership.account_id == key.account_id)
    return Credential(
        pk=key.pk,
        access_key_id=key.access_key_id,
        secret=secret,
        user=key.user,
        account_id=key.account_id,
        enabled=key.enabled,
        member=member,
        can_write=bool(member and membership is not None and membership.can_write),
    )


def forget(access_key_id: str | None = None) -> None:
    """Drop cached credentials, one key's or all of them, in this process and in every other one.

    Called inside a transaction, it forgets again when the transaction commits: another process may have
    reloaded the rows in between, as they were before the commit.
    """
    _forget(access_key_id)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _forget(access_key_id))


def _forget(access_key_id: str | None) -> None:
    if access_key_id is None:
        _cache.clear()
    else:
        _cache.pop(access_key_id, None)
    stamp = _ALL_STAMP if access_key_id is None else _KEY_STAMP + access_key_id
    try:
        cache.set(stamp, uuid.uuid4().hex, timeout=STAMP_SECONDS)
    except Exception:  # noqa: BLE001 - other processes then follow within CACHE_SECONDS
        logger.warning(
            "The shared cache is unreachable; other processes forget %s within %ss", stamp, CACHE_SECONDS
        )


def nonce_seen(access_key_id: str, nonce: str) -> bool:
    """Record a signature nonce; True if it was already used within the window (a replay)."""
    digest = hashlib.sha256(f"{access_key_id}\n{nonce}".encode()).hexdigest()
    return not cache.add(f"alibaba_api:nonce:{digest}", 1, timeout=NONCE_SECONDS)


def touch(credential: Credential) -> None:
    """Record that the key was used; written at most once a minute per key and process."""
    now = time.monotonic()
    if now - _touched.get(credential.access_key_id, -TOUCH_SECONDS) < TOUCH_SECONDS:
        return
    _touched[credential.access_key_id] = now
    from alibaba_api.models import AccessKey

    AccessKey.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())


def throttle_wait_ms(access_key_id: str) -> int:
    """0 if the call may go ahead, else the milliseconds to wait (ALIBABA_API_RATE_LIMIT calls/s per key)."""
    limit = getattr(settings, "ALIBABA_API_RATE_LIMIT", 0)
    if not limit:
        return 0
    now = time.time()
    window = int(now)
    key = f"alibaba_api:rate:{access_key_id}:{window}"
    cache.add(key, 0, timeout=2)
    if cache.incr(key) <= limit:
        return 0
    return max(1, int((window + 1 - now) * 1000))
