"""REST API tokens, stored as digests: the token itself is shown once, when it is issued."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token of the REST API (`Authorization: Token <token>`), acting for its user.

    Only the SHA-256 digest of the token is kept (a token is 256 random bits: a fast digest is enough to make
    the stored value useless to whoever reads it); `prefix` tells the user's tokens apart. A token expires
    (`API_TOKEN_TTL_DAYS`) and is revoked by deleting it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(_("token prefix"), max_length=16)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()
