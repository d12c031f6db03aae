"""REST API throttling: rates from the settings (read at each request, so an operator's change and a test's
override both apply), counted in the shared cache; too many calls answer 429 with Retry-After."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _SettingRate:
    setting = ""

    def get_rate(self) -> str:
        return str(getattr(settings, self.setting))


class UserThrottle(_SettingRate, UserRateThrottle):
    """Calls of one authenticated user (`API_THROTTLE_USER`, such as `600/min`)."""

    setting = "API_THROTTLE_USER"


class AnonThrottle(_SettingRate, AnonRateThrottle):
    """Calls without credentials from one client address (`API_THROTTLE_ANON`)."""

    setting = "API_THROTTLE_ANON"


class TokenThrottle(_SettingRate, SimpleRateThrottle):
    """Token requests (a user name and password each) from one client address (`API_THROTTLE_TOKEN`)."""

    scope = "token"
    setting = "API_THROTTLE_TOKEN"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
