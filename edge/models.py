"""Edge nodes, config revisions, and how each domain stands on each node (SPEC.md §5).

What a node must hold is implicit: the latest revision of every domain (`Domain.config_revision`). What it
has acknowledged is one row per (domain, node), `NodeDomainState`, so the delivery state follows domains ×
nodes, never revisions × nodes: publishing a revision writes no row per node.
"""

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
    # Some enabled node has yet to apply this revision: the reconciler's work list (a partial index holds
    # only these). Set when the revision is published to nodes, cleared once every enabled node applied it
    # or a newer revision replaced it, set again on the latest revisions when a node is enabled.
    outstanding = models.BooleanField(_("outstanding"), default=False)

    class Meta:
        verbose_name = _("config revision")
        verbose_name_plural = _("config revisions")
        ordering = ["domain", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "number"], name="revision_unique_per_domain")
        ]
        indexes = [
            models.Index(fields=["domain"], name="revision_outstanding", condition=models.Q(outstanding=True))
        ]

    def __str__(self) -> str:
        return f"{self.domain_id} r{self.number}"


class DeploymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")
    SUPERSEDED = "superseded", _("Superseded")


class NodeDomainState(models.Model):
    """How one domain stands on one edge node: the latest revision the node acknowledged holding, and the
    outcome of the last attempt to deliver it a revision (`number`).

    The node lags on the domain while `applied_number` is below the domain's latest revision; it is failed
    on it when the last attempt, about that latest revision, gave up (`status` failed). A row is written by
    delivery only (never by a change), and it is created by the first attempt: no row means nothing
    acknowledged yet.
    """

    node = models.ForeignKey(EdgeNode, on_delete=models.CASCADE, related_name="domain_states")
    domain = models.ForeignKey(
        "domains.Domain", on_delete=models.CASCADE, related_name="node_states", db_index=False
    )
    applied_number = models.PositiveIntegerField(_("applied revision"), default=0)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    number = models.PositiveIntegerField(_("revision attempted"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.UniqueConstraint(fields=["domain", "node"], name="node_domain_state_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.domain_id} on {self.node_id}: r{self.applied_number}"


class AppliedRevision(models.Model):
    """When nodes applied a revision: one row per revision and delivery round, naming the nodes that applied
    it in that round (`node_ids`), so the history grows with revisions and rounds, not with nodes (a change
    delivered to 1,000 nodes by four tasks writes four rows). The per-node times of the revision history;
    kept `EDGE_APPLIED_HISTORY_DAYS` days, then pruned by the periodic `edge.prune_history` task (the
    latest revision's times stay in `NodeDomainState`). A node deleted since stays named by its id, which
    no other node takes."""

    revision = models.ForeignKey(ConfigRevision, on_delete=models.CASCADE, related_name="applications")
    applied_at = models.DateTimeField(_("applied at"), db_index=True)
    node_ids = models.JSONField(_("nodes"), default=list)

    class Meta:
        verbose_name = _("applied revision")
        verbose_name_plural = _("applied revisions")

    def __str__(self) -> str:
        return f"{self.revision} on {len(self.node_ids)} nodes"
