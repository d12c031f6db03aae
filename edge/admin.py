from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.audit import ChangeContext
from accounts.models import Source
from common.admin import ReadOnlyAdmin
from edge.key_admin import KeyRotationActions
from edge.models import ConfigRevision, EdgeNode, NodeDomainState
from edge.nodes import edge_node_create, edge_node_delete, edge_node_set_enabled, edge_node_update


class EdgeNodeForm(forms.ModelForm):
    class Meta:
        model = EdgeNode
        fields = ["name", "region", "agent_url", "enabled", "signing_key"]
        widgets = {"signing_key": forms.PasswordInput(render_value=False)}
        help_texts = {"signing_key": _("Shared with the node's agent. Leave empty to keep the current key.")}

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        key = self.fields["signing_key"]
        key.required = self.instance.pk is None
        # The model's default is callable, which makes Django echo the current value in a hidden input:
        # the key must never be shown.
        key.show_hidden_initial = False

    def clean_signing_key(self) -> str:
        key = self.cleaned_data.get("signing_key", "")
        return key or self.instance.signing_key


def _admin_context(request: HttpRequest) -> ChangeContext:
    return ChangeContext.from_request(request, source=Source.ADMIN)


@admin.register(EdgeNode)
class EdgeNodeAdmin(KeyRotationActions, admin.ModelAdmin):
    """Operators add, change, enable, disable and delete nodes here, through the edge node services.

    A node added or enabled is owed every domain's latest revision (the reconciler delivers it); a node
    disabled or deleted no longer holds any domain in Configuring.
    """

    form = EdgeNodeForm
    list_display = ["name", "region", "agent_url", "enabled", "rotating", "last_contact_at", "last_error"]
    list_filter = ["enabled", "region"]
    search_fields = ["name", "agent_url"]
    actions = ["enable_nodes", "disable_nodes", *KeyRotationActions.rotation_actions]

    def save_model(self, request: HttpRequest, obj: EdgeNode, form: forms.ModelForm, change: bool) -> None:
        data: dict[str, Any] = {name: form.cleaned_data[name] for name in EdgeNodeForm.Meta.fields}
        if change:
            edge_node_update(node=obj, context=_admin_context(request), **data)
            return
        node = edge_node_create(context=_admin_context(request), **data)
        obj.pk = node.pk  # the admin's history and messages refer to the node the service made

    def get_deleted_objects(self, objs, request: HttpRequest):  # type: ignore[no-untyped-def]
        """The nodes, and their deployments counted rather than listed: a node has one per domain.

        The deployments go with their node, though they are read-only in the admin (which would refuse).
        """
        nodes = list(objs)
        counts = {
            EdgeNode._meta.verbose_name_plural: len(nodes),
            # One per domain published, held or owed, whether or not delivery has written its row yet.
            NodeDomainState._meta.verbose_name_plural: len(nodes)
            * ConfigRevision.objects.filter(number=F("domain__config_revision")).count(),
        }
        return [str(node) for node in nodes], counts, set(), []

    def delete_model(self, request: HttpRequest, obj: EdgeNode) -> None:
        edge_node_delete(node=obj, context=_admin_context(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> None:
        context = _admin_context(request)
        for node in queryset:
            edge_node_delete(node=node, context=context)

    @admin.action(description=_("Enable selected edge nodes"), permissions=["change"])
    def enable_nodes(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description=_("Disable selected edge nodes"), permissions=["change"])
    def disable_nodes(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[EdgeNode], *, enabled: bool) -> None:
        context = _admin_context(request)
        count = 0
        for node in queryset:
            edge_node_set_enabled(node=node, enabled=enabled, context=context)
            count += 1
        if enabled:
            message = ngettext("%(count)d edge node enabled.", "%(count)d edge nodes enabled.", count)
        else:
            message = ngettext("%(count)d edge node disabled.", "%(count)d edge nodes disabled.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(ConfigRevision)
class ConfigRevisionAdmin(ReadOnlyAdmin):
    list_display = ["domain", "number", "actor_name", "source", "summary", "created_at"]
    list_select_related = ["domain"]
    search_fields = ["domain__name"]
    show_full_result_count = False


@admin.register(NodeDomainState)
class NodeDomainStateAdmin(ReadOnlyAdmin):
    list_display = [
        "domain",
        "node",
        "applied_number",
        "number",
        "status",
        "attempts",
        "last_error",
        "updated_at",
    ]
    list_filter = ["status", "node"]
    list_select_related = ["domain", "node"]
    show_full_result_count = False
