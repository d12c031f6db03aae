"""Accelerated domains, their origins and their back-to-origin settings (SPEC.md §4.1-4.3)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Account


class Product(models.TextChoices):
    CDN = "cdn", _("CDN")
    DCDN = "dcdn", _("DCDN")


class BusinessType(models.TextChoices):
    WEB = "web", _("Image and small file")
    DOWNLOAD = "download", _("Large file download")
    VIDEO = "video", _("VOD")
    DYNAMIC = "dynamic", _("Dynamic and static acceleration")


class Coverage(models.TextChoices):
    DOMESTIC = "domestic", _("Chinese mainland")
    OVERSEAS = "overseas", _("Global (excluding Chinese mainland)")
    GLOBAL = "global", _("Global")


class DomainStatus(models.TextChoices):
    ONLINE = "online", _("Enabled")
    OFFLINE = "offline", _("Disabled")
    CONFIGURING = "configuring", _("Configuring")
    CONFIGURE_FAILED = "configure_failed", _("Configuration failed")
    CHECKING = "checking", _("Reviewing")
    CHECK_FAILED = "check_failed", _("Review failed")


class Domain(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    # Unique across all accounts: one accelerated name has one owner.
    name = models.CharField(_("domain name"), max_length=253, unique=True)
    product = models.CharField(_("product"), max_length=8, choices=Product.choices, default=Product.CDN)
    business_type = models.CharField(
        _("business type"), max_length=16, choices=BusinessType.choices, default=BusinessType.WEB
    )
    coverage = models.CharField(
        _("coverage"), max_length=16, choices=Coverage.choices, default=Coverage.DOMESTIC
    )
    cname = models.CharField(_("CNAME"), max_length=300, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DomainStatus.choices, default=DomainStatus.ONLINE, db_index=True
    )
    https_enabled = models.BooleanField(_("HTTPS"), default=False)
    description = models.CharField(_("description"), max_length=256, blank=True)
    # The number of the latest config revision; grows on every effective change (edge.ConfigRevision).
    config_revision = models.PositiveIntegerField(_("config revision"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    modified_at = models.DateTimeField(_("modified at"), auto_now=True)
    # Set when the domain is deleted: it is hidden at once, and its row goes once every edge node dropped it.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["account", "product", "name"]),
            models.Index(fields=["account", "product", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__in=Product.values), name="domain_product_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DomainStatus.values), name="domain_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dcdn(self) -> bool:
        return self.product == Product.DCDN


class OriginType(models.TextChoices):
    IPADDR = "ipaddr", _("IP address")
    DOMAIN = "domain", pgettext_lazy("origin type", "Domain name")
    OSS = "oss", _("OSS bucket")


class OriginPriority(models.IntegerChoices):
    PRIMARY = 20, _("Primary")
    BACKUP = 30, _("Backup")


# The two per-origin SNI values that are not a name: send the origin's own address (a domain-type origin),
# or the origin Host header, as the vendor's `origin_sni` function spells them.
FOLLOW_ORIGIN = "ali_follow_origin"
FOLLOW_HOST = "ali_follow_host"


class Origin(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="origins")
    type = models.CharField(_("type"), max_length=8, choices=OriginType.choices)
    address = models.CharField(_("address"), max_length=253)
    port = models.PositiveIntegerField(
        _("port"), default=80, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=OriginPriority.choices, default=OriginPriority.PRIMARY
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=10, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Per-origin SNI: a name, FOLLOW_ORIGIN or FOLLOW_HOST; empty means the domain's Origin SNI.
    sni_host = models.CharField(_("origin SNI"), max_length=253, blank=True)

    class Meta:
        verbose_name = _("origin")
        verbose_name_plural = _("origins")
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "address", "port"], name="origin_unique_per_domain"),
            models.CheckConstraint(
                condition=models.Q(port__gte=1, port__lte=65535), name="origin_port_range"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=100), name="origin_weight_range"
            ),
            models.CheckConstraint(condition=models.Q(priority__in=[20, 30]), name="origin_priority_valid"),
            models.CheckConstraint(condition=models.Q(type__in=OriginType.values), name="origin_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


class ProtocolPolicy(models.TextChoices):
    FOLLOW = "follow", _("Match client")
    HTTP = "http", _("HTTP")
    HTTPS = "https", _("HTTPS")


class OriginFetchSettings(models.Model):
    """A domain's back-to-origin ("Origin Fetch") settings (SPEC.md §4.3).

    They are part of what a domain's config document is compiled from, so they live with the domain; the
    Back-to-origin feature (`origin_fetch`) owns their rules, their services and their pages. A domain without
    a row has the defaults (`domains.selectors.settings_of`); the first change writes it.
    """

    domain = models.OneToOneField(
        Domain, on_delete=models.CASCADE, primary_key=True, related_name="origin_fetch"
    )
    # Off: no policy, each origin's own port decides (HTTPS on 443, HTTP otherwise), as the vendor documents
    # it. The policy and its ports are kept while it is off, so turning it back on restores them.
    forward_scheme_enabled = models.BooleanField(
        _("origin protocol policy on"), default=True, db_default=True
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
    # Verified against the SNI each origin is sent, and nothing else: the edge's nginx has no way to accept
    # another name, so extra acceptable common names are not offered (migration 0006 retired stored ones).
    verify_origin_cert = models.BooleanField(_("origin certificate verification"), default=False)
    # Optimistic concurrency: every save increments it; a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1)

    # The fields that hold the settings themselves: what a revision's snapshot keeps, what Describe reads.
    VALUE_FIELDS = (
        "forward_scheme_enabled",
        "forward_scheme",
        "http_port",
        "https_port",
        "origin_host",
        "sni_enabled",
        "sni_name",
        "verify_origin_cert",
    )
    modified_at = models.DateTimeField(_("modified at"), auto_now=True)

    class Meta:
        db_table = "origin_fetch_originfetchsettings"
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


# A tag's rules are the vendor's (TagResources): at most 20 per domain; a key of 1-64 characters that does
# not start with `aliyun` or `acs:`; a value of at most 128 characters; neither contains http:// or https://.
MAX_TAGS = 20
TAG_KEY_LENGTH = 64
TAG_VALUE_LENGTH = 128


class DomainTag(models.Model):
    """A tag (key and value) of a domain, as the vendor's TagResources sets it; a key appears once."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(_("tag key"), max_length=TAG_KEY_LENGTH)
    value = models.CharField(_("tag value"), max_length=TAG_VALUE_LENGTH, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["domain", "key"], name="domain_tag_key_unique")]
        indexes = [models.Index(fields=["key", "value"], name="domain_tag_key_value")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class ConfiguredFunction(models.Model):
    """A function configured on a domain, as the vendor keeps them: its id is the ConfigId.

    A row exists from the first time the function is set (through any entry point) until it is deleted;
    setting it again keeps the row, so the ConfigId is stable; configuring it after a delete makes a new row,
    so a new ConfigId. Per-origin functions (`origin_sni`) have one row per origin.
    """

    id = models.BigAutoField(primary_key=True)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="configured_functions")
    function = models.CharField(_("function"), max_length=64)
    origin = models.ForeignKey(
        Origin, on_delete=models.CASCADE, null=True, blank=True, related_name="configured_functions"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("configured function")
        verbose_name_plural = _("configured functions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "function"],
                condition=models.Q(origin__isnull=True),
                name="configured_function_unique_per_domain",
            ),
            models.UniqueConstraint(
                fields=["function", "origin"],
                condition=models.Q(origin__isnull=False),
                name="configured_function_unique_per_origin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.function} #{self.pk}"


class VerificationMethod(models.TextChoices):
    DNS = "dns", _("DNS record")
    FILE = "file", _("File")
    OPERATOR = "operator", _("Marked by an operator")
    EXISTING = "existing", _("Held before verification was required")


class VerifiedRoot(models.Model):
    """A root domain (`example.com`) that an account proved it owns: only it adds names under the root.

    A verified root belongs to one account (`domains.ownership`); operators mark and release roots in the
    admin.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="verified_roots")
    root = models.CharField(_("root domain"), max_length=253, unique=True)
    method = models.CharField(_("verified by"), max_length=16, choices=VerificationMethod.choices)
    verified_at = models.DateTimeField(_("verified at"), auto_now_add=True)
    actor_name = models.CharField(_("user"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("verified root domain")
        verbose_name_plural = _("verified root domains")
        ordering = ["root"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=VerificationMethod.values), name="verified_root_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.root
