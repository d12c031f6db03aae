"""Issuing, checking and revoking REST API tokens (`api.models.ApiToken`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from api.models import ApiToken

TOKEN_PREFIX = "cdnt_"  # noqa: S105 - the visible start of every token, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once: only its digest is stored


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: AbstractBaseUser) -> IssuedToken:
    """A new token for `user`, valid for API_TOKEN_TTL_DAYS days."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = timedelta(days=float(getattr(settings, "API_TOKEN_TTL_DAYS", 30)))
    token = ApiToken.objects.create(
        user=user,
        prefix=key[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(key),
        expires_at=timezone.now() + ttl,
    )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


class HashedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`, looked up by its digest; an expired token is refused (and removed)."""

    def authenticate_credentials(self, key: str):  # type: ignore[no-untyped-def]
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if token.expired:
            token.delete()
            raise AuthenticationFailed(_("The token has expired: ask for a new one."), code="token_expired")
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
