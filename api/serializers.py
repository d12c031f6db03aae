"""Request and response shapes of the REST API.

Request serializers check the JSON shape only (types, required fields, enumerations) and hand the values to
the services, which apply every other rule with the same messages as the console. Bounds the services
enforce are documented in the schema by `DocumentedInteger` without being checked twice.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import OperationLog
from domains.documents import effective_sni, fetch_of, forward_scheme_of
from domains.models import (
    BusinessType,
    Coverage,
    Domain,
    DomainStatus,
    Origin,
    OriginPriority,
    OriginType,
    Product,
)
from domains.selectors import settings_of
from edge.models import ConfigRevision, DeploymentStatus, EdgeNode
from origin_fetch.history import document_diff

SNI_SOURCES = {
    "origin": "the origin's own SNI",
    "origin_address": "the origin's address (ali_follow_origin)",
    "origin_host": "the origin Host header (ali_follow_host)",
    "domain": "the domain's Origin SNI",
    "oss": "the OSS bucket's host name",
    "none": "no SNI is sent",
}


class DocumentedInteger(serializers.IntegerField):
    """An integer whose documented bounds the service enforces, with the console's messages."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_value, self.max_value = minimum, maximum


def port_field(**kwargs: Any) -> DocumentedInteger:
    return DocumentedInteger(minimum=1, maximum=65535, **kwargs)


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObject(serializers.JSONField):
    """A JSON object (free-form)."""


FETCH_SOURCES = {
    "policy_http": "the origin protocol policy's HTTP port",
    "policy_https": "the origin protocol policy's HTTPS port",
    "policy_follow": "the origin protocol policy's port for the client's protocol",
    "origin_port": "the origin's own port (the policy is off): HTTPS on 443, HTTP otherwise",
}


class FetchSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=["http", "https"])
    port = serializers.IntegerField()


def fetch_values(origin: Origin) -> dict[str, Any]:
    """How the edge fetches from `origin`: each scheme and port, and why (see FETCH_SOURCES)."""
    fetch = fetch_of(forward_scheme_of(settings_of(origin.domain)), origin.port)
    return {
        "fetch": [{"scheme": scheme, "port": port} for scheme, port in fetch.fetches],
        "fetch_source": fetch.source,
    }


def effective_sni_of(origin: Origin) -> tuple[str | None, str]:
    """The SNI the edge sends to `origin`, and why (see SNI_SOURCES)."""
    settings = settings_of(origin.domain)
    sni = effective_sni(
        origin=origin,
        sni_enabled=settings.sni_enabled,
        sni_name=settings.sni_name,
        origin_host=settings.effective_origin_host,
    )
    return sni.name, sni.source


# Origins


class OriginInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=OriginType.choices)
    address = serializers.CharField(
        allow_blank=True, help_text="An IP address, or a domain name (for `domain` and `oss` origins)."
    )
    port = port_field(default=80)
    priority = serializers.ChoiceField(
        choices=OriginPriority.choices, default=OriginPriority.PRIMARY, help_text="20 primary, 30 backup."
    )
    weight = DocumentedInteger(minimum=1, maximum=100, default=10)


class OriginSerializer(serializers.ModelSerializer):
    fetch = serializers.SerializerMethodField(
        help_text="The scheme and port the edge fetches from this origin with (two with `follow`: the "
        "client's protocol decides)."
    )
    fetch_source = serializers.SerializerMethodField(
        help_text="Why: " + "; ".join(f"`{k}` {v}" for k, v in FETCH_SOURCES.items()) + "."
    )
    effective_sni = serializers.SerializerMethodField(help_text="The SNI the edge sends to this origin.")
    effective_sni_source = serializers.SerializerMethodField(
        help_text="Why: " + "; ".join(f"`{k}` {v}" for k, v in SNI_SOURCES.items()) + "."
    )

    class Meta:
        model = Origin
        fields = [
            "id",
            "type",
            "address",
            "port",
            "priority",
            "weight",
            "enabled",
            "fetch",
            "fetch_source",
            "sni_host",
            "effective_sni",
            "effective_sni_source",
        ]
        read_only_fields = fields

    @extend_schema_field(FetchSerializer(many=True))
    def get_fetch(self, origin: Origin) -> list[dict[str, Any]]:
        return fetch_values(origin)["fetch"]  # type: ignore[no-any-return]

    @extend_schema_field(serializers.ChoiceField(choices=list(FETCH_SOURCES)))
    def get_fetch_source(self, origin: Origin) -> str:
        return fetch_values(origin)["fetch_source"]  # type: ignore[no-any-return]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_effective_sni(self, origin: Origin) -> str | None:
        return effective_sni_of(origin)[0]

    @extend_schema_field(serializers.ChoiceField(choices=list(SNI_SOURCES)))
    def get_effective_sni_source(self, origin: Origin) -> str:
        return effective_sni_of(origin)[1]


class OriginSniHostInputSerializer(serializers.Serializer):
    sni_host = serializers.CharField(
        allow_blank=True,
        help_text="A specific domain name, `ali_follow_origin`, `ali_follow_host`, or empty for the "
        "domain's Origin SNI.",
    )


class OriginSniHostSerializer(serializers.ModelSerializer):
    effective_sni = serializers.SerializerMethodField()
    effective_sni_source = serializers.SerializerMethodField()

    class Meta:
        model = Origin
        fields = ["id", "sni_host", "effective_sni", "effective_sni_source"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_effective_sni(self, origin: Origin) -> str | None:
        return effective_sni_of(origin)[0]

    @extend_schema_field(serializers.ChoiceField(choices=list(SNI_SOURCES)))
    def get_effective_sni_source(self, origin: Origin) -> str:
        return effective_sni_of(origin)[1]


# Domains


class DomainSerializer(serializers.ModelSerializer):
    origins = OriginSerializer(many=True, read_only=True)

    class Meta:
        model = Domain
        fields = [
            "name",
            "product",
            "business_type",
            "coverage",
            "cname",
            "status",
            "https_enabled",
            "description",
            "config_revision",
            "created_at",
            "modified_at",
            "origins",
        ]
        read_only_fields = fields


class DomainCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        allow_blank=True,
        help_text="The accelerated domain name; a wildcard such as `*.example.com` is allowed.",
    )
    product = serializers.ChoiceField(choices=Product.choices)
    business_type = serializers.ChoiceField(
        choices=BusinessType.choices, help_text="CDN: `web`, `download` or `video`; DCDN: `dynamic`."
    )
    coverage = serializers.ChoiceField(choices=Coverage.choices, default=Coverage.DOMESTIC)
    description = serializers.CharField(allow_blank=True, default="", help_text="At most 256 characters.")
    origins = OriginInputSerializer(many=True, allow_empty=True, help_text="One to 20 origins.")


class DomainFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, help_text="Search the domain names.")
    match = serializers.ChoiceField(
        choices=["fuzzy", "prefix", "suffix", "exact"],
        default="fuzzy",
        help_text="How `q` matches: anywhere in the name (fuzzy), at its start or end, or the whole name.",
    )
    status = serializers.ChoiceField(choices=DomainStatus.choices, required=False)
    product = serializers.ChoiceField(choices=Product.choices, required=False)
    ordering = serializers.ChoiceField(
        choices=["name", "-name", "created_at", "-created_at"],
        default="name",
        help_text="Sort by name or by creation time; `-` for descending.",
    )


# Delivery and history


class NodeDeploymentSerializer(serializers.Serializer):
    node = serializers.CharField(help_text="The edge node's name.")
    region = serializers.CharField()
    state = serializers.ChoiceField(choices=DeploymentStatus.choices, help_text="The delivery's status.")
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    applied_at = serializers.DateTimeField(allow_null=True)


class DeliveryProgressSerializer(serializers.Serializer):
    revision = serializers.IntegerField(help_text="The domain's latest config revision.")
    status = serializers.ChoiceField(choices=DomainStatus.choices, help_text="The domain's status.")
    applied = serializers.IntegerField(help_text="Enabled edge nodes that applied the revision.")
    total = serializers.IntegerField(help_text="Enabled edge nodes the revision was sent to.")
    nodes = NodeDeploymentSerializer(many=True)


class DiffLineSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="The setting, as a dotted path in the config document.")
    before = serializers.CharField()
    after = serializers.CharField()


class RevisionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="Who made the change.")
    document = JsonObject(help_text="The config document delivered to edge nodes.")
    diff = serializers.SerializerMethodField(help_text="What changed since the previous revision.")

    class Meta:
        model = ConfigRevision
        fields = ["number", "created_at", "actor", "source", "remote_addr", "summary", "document", "diff"]
        read_only_fields = fields

    @extend_schema_field(DiffLineSerializer(many=True))
    def get_diff(self, revision: ConfigRevision) -> list[dict[str, str]]:

        previous = self.context.get("previous", {}).get(revision.number - 1)
        return [
            {"path": path, "before": before, "after": after}
            for path, before, after in document_diff(previous, revision.document)
        ]


class RevisionDetailSerializer(RevisionSerializer):
    deployments = serializers.SerializerMethodField(help_text="This revision's delivery to each edge node.")

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "deployments"]
        read_only_fields = fields

    @extend_schema_field(NodeDeploymentSerializer(many=True))
    def get_deployments(self, revision: ConfigRevision) -> list[dict[str, Any]]:
        return NodeDeploymentSerializer(self.context.get("deployments", []), many=True).data


# Operation log, edge nodes, tokens


class OperationSerializer(serializers.ModelSerializer):
    domain = serializers.CharField(source="domain_name", help_text="The domain's name (kept once deleted).")
    actor = serializers.CharField(source="actor_name", help_text="Who made the change.")
    before = JsonObject(help_text="The changed values before the change.")
    after = JsonObject(help_text="The changed values after the change.")

    class Meta:
        model = OperationLog
        fields = [
            "id",
            "created_at",
            "domain",
            "actor",
            "source",
            "remote_addr",
            "action",
            "before",
            "after",
            "revision",
        ]
        read_only_fields = fields


class OperationFilterSerializer(serializers.Serializer):
    domain = serializers.CharField(required=False, allow_blank=True, help_text="A domain name.")
    user = serializers.CharField(required=False, allow_blank=True, help_text="A user name.")
    action = serializers.CharField(required=False, allow_blank=True, help_text="Such as `origin_sni.update`.")
    source = serializers.ChoiceField(choices=OperationLog._meta.get_field("source").choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="Entries at or after this time.")
    until = serializers.DateTimeField(required=False, help_text="Entries before this time.")


class EdgeNodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EdgeNode
        fields = ["name", "region", "agent_url", "enabled", "last_contact_at", "last_error"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
