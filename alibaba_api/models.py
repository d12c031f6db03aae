"""AccessKey pairs of the Alibaba-compatible API (SPEC.md §3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account

ACCESS_KEY_ID_PREFIX = "LTAI"


class AccessKey(models.Model):
    """An AccessKey ID and its secret, which signs API calls on behalf of a user of an account.

    The secret is stored encrypted (`alibaba_api.crypto`) and shown only once, when the key is created.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_keys")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="access_keys")
    access_key_id = models.CharField(_("AccessKey ID"), max_length=64, unique=True)
    secret_encrypted = models.TextField(_("encrypted secret"), editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("AccessKey")
        verbose_name_plural = _("AccessKeys")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(access_key_id__startswith=ACCESS_KEY_ID_PREFIX),
                name="access_key_id_prefix",
            )
        ]

    def __str__(self) -> str:
        return self.access_key_id
