"""Back-to-origin ("Origin Fetch") settings of a domain (SPEC.md §4.3)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from domains.models import Domain


class ProtocolPolicy(models.TextChoices):
    FOLLOW = "follow", _("Match client")
    HTTP = "http", _("HTTP")
    HTTPS = "https", _("HTTPS")


class OriginFetchSettings(models.Model):
    domain = models.OneToOneField(
        Domain, on_delete=models.CASCADE, primary_key=True, related_name="origin_fetch"
    )
    forward_scheme = models.CharField(
        _("origin protocol policy"), max_length=8, choices=ProtocolPolicy.choices, default=ProtocolPolicy.HTTP
    )
    http_port = models.PositiveIntegerField(_("HTTP port"), default=80)
    https_port = models.PositiveIntegerField(_("HTTPS port"), default=443)
    # Empty means the accelerated domain itself.
    origin_host = models.CharField(_("origin host"), max_length=253, blank=True)
    sni_enabled = models.BooleanField(_("Origin SNI"), default=False)
    # Kept when SNI is turned off, so turning it back on restores the name.
    sni_name = models.CharField(_("SNI"), max_length=253, blank=True)
    verify_origin_cert = models.BooleanField(_("origin certificate verification"), default=False)
    verify_common_names = models.JSONField(_("extra acceptable common names"), default=list, blank=True)
    # Optimistic concurrency: every save increments it; a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    modified_at = models.DateTimeField(_("modified at"), auto_now=True)

    class Meta:
        verbose_name = _("back-to-origin settings")
        verbose_name_plural = _("back-to-origin settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sni_enabled=False) | ~models.Q(sni_name=""),
                name="origin_sni_enabled_needs_name",
            ),
            models.CheckConstraint(
                condition=models.Q(http_port__gte=1, http_port__lte=65535)
                & models.Q(https_port__gte=1, https_port__lte=65535),
                name="origin_fetch_ports_range",
            ),
            models.CheckConstraint(
                condition=models.Q(forward_scheme__in=ProtocolPolicy.values), name="origin_fetch_policy_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Back-to-origin settings of {self.domain_id}"

    @property
    def effective_origin_host(self) -> str:
        return self.origin_host or self.domain.name
