"""Log-on lockout (django-axes): its message, and the entry the account's owners see in the Operation Log.

After LOGIN_FAILURE_LIMIT failed log-ons for one user name, or from one client address, further attempts are
refused until the cooling period has passed (a failure meanwhile starts it again); the pages, the admin and
the REST API's token endpoint share the counters.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.access import membership_for
from accounts.audit import ChangeContext, operation_log_write
from accounts.models import Source

logger = logging.getLogger(__name__)


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, math.ceil(cool_off_seconds() / 60))
    return ngettext(
        "Too many failed log-on attempts: log-on is locked for %(minutes)d minute. Try again later, or ask "
        "an operator to unlock it.",
        "Too many failed log-on attempts: log-on is locked for %(minutes)d minutes. Try again later, or ask "
        "an operator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def _source(request: HttpRequest) -> str:
    path = getattr(request, "path", "")
    if path.startswith("/api/"):
        return Source.REST
    if path.startswith("/admin/"):
        return Source.ADMIN
    return Source.CONSOLE


def user_locked_out(
    *, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    """Record a lockout in the locked user's account's log (once per cooling period), and in the log."""
    logger.warning("Log-on locked out: user %r from %s", username, ip_address)
    user = get_user_model().objects.filter(username=username).first() if username else None
    membership = membership_for(user) if user is not None else None
    if membership is None or not cache.add(f"accounts:lockout:{user.pk}", 1, timeout=cool_off_seconds()):
        return
    operation_log_write(
        context=ChangeContext(user=None, source=_source(request), remote_addr=ip_address),
        account=membership.account,
        action="user.locked_out",
        after={
            "user": username,
            "failures": settings.AXES_FAILURE_LIMIT,
            "minutes": cool_off_seconds() // 60,
        },
    )


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check before every web log-on (the log-on page, the admin, the REST token endpoint: each
    passes its request). An authentication without a request, which is no web log-on (a management command, a
    test client's login), has no client address to count, and is left to the other backends."""

    def authenticate(self, request, username=None, password=None, **kwargs):  # type: ignore[no-untyped-def]
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
