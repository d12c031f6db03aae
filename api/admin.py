from django.contrib import admin

from api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Operators see who holds REST API tokens and revoke one by deleting it; a token itself is never
    shown (only its digest is stored)."""

    list_display = ["prefix", "user", "created_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["user", "prefix", "created_at", "expires_at"]
    exclude = ["digest"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
