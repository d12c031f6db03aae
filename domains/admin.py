from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from domains.models import Domain, Origin
from domains.selectors import DomainPaginator, domains_matching


class OriginInline(admin.TabularInline):
    model = Origin
    extra = 0
    fields = ["type", "address", "port", "priority", "weight", "enabled", "sni_host"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    """Operators look domains up here; customers change them through the console and APIs, whose services
    validate, log and deliver every change."""

    list_display = ["name", "product", "account", "status", "cname", "config_revision", "created_at"]
    list_filter = ["product", "status"]
    list_select_related = ["account"]
    search_fields = ["name"]
    search_help_text = _("Part of the domain name.")
    # 100,000 domains: no second count of the whole table, and pages read from the index (DomainPaginator).
    show_full_result_count = False
    paginator = DomainPaginator
    readonly_fields = [f.name for f in Domain._meta.fields]
    inlines = [OriginInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Domain], search_term: str
    ) -> tuple[QuerySet[Domain], bool]:
        """The console's fuzzy name search, which PostgreSQL's trigram index serves (names are lower case)."""
        return domains_matching(queryset, query=search_term, match="fuzzy"), False


@admin.register(Origin)
class OriginAdmin(admin.ModelAdmin):
    list_display = ["address", "port", "type", "priority", "weight", "domain"]
    list_select_related = ["domain"]
    search_fields = ["address", "domain__name"]
    readonly_fields = [f.name for f in Origin._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
