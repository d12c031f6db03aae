"""The admin's signing key rotation: start (the new keys shown once), finish, cancel (`edge.keys`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext
from accounts.models import Source
from edge.keys import (
    edge_node_key_rotation_cancel,
    edge_node_key_rotation_finish,
    edge_node_key_rotation_start,
)
from edge.models import EdgeNode


class KeyRotationActions:
    """Admin actions of `EdgeNodeAdmin` for rotating the selected nodes' signing keys."""

    rotation_actions = ["start_key_rotation", "finish_key_rotation", "cancel_key_rotation"]

    @admin.display(boolean=True, description=_("key rotation"))
    def rotating(self, node: EdgeNode) -> bool:
        return bool(node.next_signing_key)

    @admin.action(description=_("Start a signing key rotation"), permissions=["change"])
    def start_key_rotation(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> TemplateResponse:
        context = ChangeContext.from_request(request, source=Source.ADMIN)
        keys = [(node, edge_node_key_rotation_start(node=node, context=context)) for node in queryset]
        return TemplateResponse(
            request,
            "admin/edge/edgenode/key_rotation.html",
            {**self.admin_site.each_context(request), "title": _("New signing keys"), "keys": keys},  # type: ignore[attr-defined]
        )

    @admin.action(description=_("Finish the signing key rotation"), permissions=["change"])
    def finish_key_rotation(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> None:
        context = ChangeContext.from_request(request, source=Source.ADMIN)
        for node in queryset:
            try:
                edge_node_key_rotation_finish(node=node, context=context)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)  # type: ignore[attr-defined]
            else:
                message = _("%(node)s now signs with its new key only.") % {"node": node.name}
                self.message_user(request, message, messages.SUCCESS)  # type: ignore[attr-defined]

    @admin.action(description=_("Cancel the signing key rotation"), permissions=["change"])
    def cancel_key_rotation(self, request: HttpRequest, queryset: QuerySet[EdgeNode]) -> None:
        context = ChangeContext.from_request(request, source=Source.ADMIN)
        for node in queryset:
            edge_node_key_rotation_cancel(node=node, context=context)
        self.message_user(request, _("Key rotations cancelled."), messages.SUCCESS)  # type: ignore[attr-defined]
