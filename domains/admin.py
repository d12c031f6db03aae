from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext
from accounts.models import Source
from domains.models import Domain, Origin, VerifiedRoot
from domains.ownership import held_by_another_error
from domains.root_services import domain_root_mark_verified, domain_root_release, root_for_name
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


class VerifiedRootForm(forms.ModelForm):
    """An operator marks a root domain verified for an account (any name under the root may be typed)."""

    class Meta:
        model = VerifiedRoot
        fields = ["account", "root"]
        help_texts = {"root": _("A domain name; its root domain (by the Public Suffix List) is marked.")}

    def clean(self):  # type: ignore[no-untyped-def]
        """The service's rules, shown next to the field (the admin saves only a valid form)."""
        cleaned = super().clean()
        account, name = cleaned.get("account"), cleaned.get("root")
        if account is not None and name:
            try:
                root = root_for_name(name)
            except ValidationError as exc:
                raise ValidationError({"root": exc.error_dict["name"]}) from None
            if VerifiedRoot.objects.filter(root=root).exclude(account=account).exists():
                raise ValidationError({"root": held_by_another_error(root)})
        return cleaned


@admin.register(VerifiedRoot)
class VerifiedRootAdmin(admin.ModelAdmin):
    """Root domains and the account each belongs to. Operators mark a root verified (the demo's are) or
    release it; both go through `domains.root_services` and the account's operation log."""

    form = VerifiedRootForm
    list_display = ["root", "account", "method", "verified_at", "actor_name"]
    list_filter = ["method"]
    list_select_related = ["account"]
    search_fields = ["root", "account__name"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["account", "root", "method", "verified_at", "actor_name"] if obj else []

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None and super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: VerifiedRoot, form: forms.ModelForm, change: bool
    ) -> None:
        held = domain_root_mark_verified(
            account=form.cleaned_data["account"],
            name=form.cleaned_data["root"],
            context=ChangeContext.from_request(request, source=Source.ADMIN),
        )
        obj.pk = held.pk

    def delete_model(self, request: HttpRequest, obj: VerifiedRoot) -> None:
        domain_root_release(verified=obj, context=ChangeContext.from_request(request, source=Source.ADMIN))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VerifiedRoot]) -> None:
        context = ChangeContext.from_request(request, source=Source.ADMIN)
        for verified in queryset.select_related("account"):
            domain_root_release(verified=verified, context=context)
