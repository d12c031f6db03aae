"""Accounts (tenants), their members and roles, and the append-only operation log.

The tables keep the names they were created with (`console_*`): the models moved here from `console`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    """A customer of the CDN. Every domain belongs to exactly one account."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    display_name = models.CharField(_("display name"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "console_account"
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    VIEWER = "viewer", _("Viewer (read-only)")


class Membership(models.Model):
    """A user's place in an account. A user belongs to one account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "console_membership"
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.account}"

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class Source(models.TextChoices):
    """Where a change came from."""

    CONSOLE = "console", _("Console")
    REST = "rest", _("REST API")
    OPENAPI = "openapi", _("OpenAPI")
    ADMIN = "admin", _("Admin")
    SYSTEM = "system", _("System")


class AppendOnlyError(Exception):
    pass


class OperationLogQuerySet(models.QuerySet["OperationLog"]):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Operation log entries cannot be changed.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Operation log entries cannot be deleted.")


class OperationLog(models.Model):
    """One change, from any entry point. Entries are written once and never changed or deleted."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="operations")
    # The domain may be deleted later; its name stays in the entry.
    domain = models.ForeignKey(
        "domains.Domain", on_delete=models.SET_NULL, null=True, blank=True, related_name="operations"
    )
    domain_name = models.CharField(_("domain name"), max_length=253, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("user"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=64)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    revision = models.PositiveIntegerField(_("config revision"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = OperationLogQuerySet.as_manager()

    class Meta:
        db_table = "console_operationlog"
        verbose_name = _("operation log entry")
        verbose_name_plural = _("operation log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="console_ope_account_9e3acd_idx"),
            models.Index(fields=["domain", "-created_at"], name="console_ope_domain__bca9ec_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.domain_name}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise AppendOnlyError("Operation log entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Operation log entries cannot be deleted.")
