from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.audit import ChangeContext
from accounts.models import Source
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_delete, access_key_set_enabled


def _admin_context(request: HttpRequest) -> ChangeContext:
    """The operator who acts, for the operation log."""
    return ChangeContext.from_request(request, source=Source.ADMIN)


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    """AccessKeys are created by their users (or `manage.py create_access_key`); the secret is never shown."""

    list_display = ["access_key_id", "user", "account", "enabled", "created_at", "last_used_at"]
    list_filter = ["enabled", "account"]
    search_fields = ["access_key_id", "user__username", "account__name"]
    list_select_related = ["user", "account"]
    fields = ["access_key_id", "user", "account", "enabled", "created_at", "last_used_at"]
    readonly_fields = ["access_key_id", "user", "account", "created_at", "last_used_at"]
    actions = ["disable_keys", "enable_keys"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: AccessKey, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        access_key_set_enabled(access_key=obj, enabled=obj.enabled, context=_admin_context(request))

    def delete_model(self, request: HttpRequest, obj: AccessKey) -> None:
        access_key_delete(access_key=obj, context=_admin_context(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccessKey]) -> None:
        context = _admin_context(request)
        for access_key in queryset:
            access_key_delete(access_key=access_key, context=context)

    @admin.action(description=_("Disable selected AccessKeys"), permissions=["change"])
    def disable_keys(self, request: HttpRequest, queryset: QuerySet[AccessKey]) -> None:
        context = _admin_context(request)
        count = 0
        for access_key in queryset:
            access_key_set_enabled(access_key=access_key, enabled=False, context=context)
            count += 1
        message = ngettext("%(count)d AccessKey disabled.", "%(count)d AccessKeys disabled.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Enable selected AccessKeys"), permissions=["change"])
    def enable_keys(self, request: HttpRequest, queryset: QuerySet[AccessKey]) -> None:
        context = _admin_context(request)
        count = 0
        for access_key in queryset:
            access_key_set_enabled(access_key=access_key, enabled=True, context=context)
            count += 1
        message = ngettext("%(count)d AccessKey enabled.", "%(count)d AccessKeys enabled.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
