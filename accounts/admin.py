from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext
from accounts.models import Account, Membership, OperationLog, Source
from accounts.services import membership_add, membership_remove, membership_role_change
from common.admin import ReadOnlyAdmin, ServiceModelAdmin


class MembershipInline(admin.TabularInline):
    """The account's members, read-only: they are added, changed and removed on the Memberships page."""

    model = Membership
    extra = 0
    fields = ["user", "role"]
    readonly_fields = ["user", "role"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "created_at"]
    search_fields = ["name", "display_name"]
    inlines = [MembershipInline]


class MembershipAddForm(forms.ModelForm):
    """A new user in an account, as the owners' Team page adds one."""

    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = Membership
        fields = ["account", "role"]


@admin.register(Membership)
class MembershipAdmin(ServiceModelAdmin):
    """Team changes by operators, through the same services as the Team page.

    Adding creates a new user in the account; a member's role can change; removing a member deactivates
    their user (unless staff). Every write is in the account's operation log, with the operator as actor
    and the admin as source, and an account always keeps at least one owner.
    """

    list_display = ["user", "account", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "account"]
    search_fields = ["user__username", "account__name"]
    autocomplete_fields = ["account"]
    add_form = MembershipAddForm
    fields = ["user", "account", "role"]
    add_fields = ["account", "username", "password", "role"]

    def get_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        return [] if obj is None else ["user", "account"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        context = ChangeContext.from_request(request, source=Source.ADMIN)
        if change:
            membership_role_change(membership=obj, role=form.cleaned_data["role"], context=context)
            return
        membership = membership_add(
            account=form.cleaned_data["account"],
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            role=form.cleaned_data["role"],
            context=context,
        )
        # The admin's own history and messages refer to the membership the service made.
        obj.pk, obj.user = membership.pk, membership.user

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_remove(membership=obj, context=ChangeContext.from_request(request, source=Source.ADMIN))


@admin.register(OperationLog)
class OperationLogAdmin(ReadOnlyAdmin):
    """Read-only: entries are never changed or deleted, by anyone."""

    list_display = ["created_at", "account", "actor_name", "source", "action", "domain_name", "revision"]
    list_filter = ["source", "action"]
    list_select_related = ["account"]
    search_fields = ["domain_name", "actor_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
