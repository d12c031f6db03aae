"""Edge nodes, config revisions and their per-node deployments (SPEC.md §5)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Source
from common.fields import SealedTextField

KEY_SALT = b"cdn-console/edge"
KEY_INFO = b"edge-node-signing-key/fernet/v1"


def new_signing_key() -> str:
    return secrets.token_urlsafe(32)


class EdgeNode(models.Model):
    name = models.SlugField(_("name"), max_length=64, unique=True)
    region = models.CharField(_("region / POP"), max_length=64, blank=True)
    agent_url = models.URLField(_("agent URL"), max_length=300)
    # Shared with the node's agent; every push is signed with it. Sealed at rest (`common.crypto`), never
    # shown after creation. During a rotation (`edge.keys`) pushes are signed with both keys.
    signing_key = SealedTextField(_("signing key"), default=new_signing_key, salt=KEY_SALT, info=KEY_INFO)
    next_signing_key = SealedTextField(_("next signing key"), blank=True, salt=KEY_SALT, info=KEY_INFO)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("edge node")
        verbose_name_plural = _("edge nodes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConfigRevision(models.Model):
    """One effective change of a domain's config document; never changed once written."""

    # Delivery knows a domain by its id and its latest revision number (`config_revision`), nothing more.
    domain = models.ForeignKey("domains.Domain", on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    document = models.JSONField(_("config document"))
    # The settings and origins as stored when the revision was made: what a rollback restores.
    snapshot = models.JSONField(_("settings snapshot"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("user"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)
    summary = models.CharField(_("change"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("config revision")
        verbose_name_plural = _("config revisions")
        ordering = ["domain", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "number"], name="revision_unique_per_domain")
        ]

    def __str__(self) -> str:
        return f"{self.domain_id} r{self.number}"


class DeploymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")
    SUPERSEDED = "superseded", _("Superseded")


class Deployment(models.Model):
    """The delivery of one revision to one node."""

    revision = models.ForeignKey(ConfigRevision, on_delete=models.CASCADE, related_name="deployments")
    node = models.ForeignKey(EdgeNode, on_delete=models.CASCADE, related_name="deployments")
    status = models.CharField(
        _("status"), max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.UniqueConstraint(fields=["revision", "node"], name="deployment_unique_per_node")
        ]
        indexes = [
            models.Index(fields=["status", "node"]),
            # What delivery looks for: the deployments still to apply, by revision. Applied and superseded
            # ones, almost all rows, are not in it, so it stays small as they pile up.
            models.Index(
                fields=["revision"],
                name="deployment_lagging",
                condition=models.Q(status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.revision} on {self.node}: {self.status}"
