from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from console.audit import ChangeContext
from console.models import Account, Membership, OperationLog, Source
from console.services import membership_add, membership_remove, membership_role_change


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it, else on the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ServiceModelAdmin(admin.ModelAdmin):
    """An admin whose writes go through services (in `save_model` and `delete_model`).

    A service refuses a change by raising ValidationError, after the form was valid. The admin's transaction
    then rolls back, and the form is shown again with the service's message on it (a refused deletion goes
    back to the change page with the message), as the console's pages do; never a server error.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            request.service_refusal = exc  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change, **kwargs)
        refusal: ValidationError | None = getattr(request, "service_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                add_service_errors(self, refusal)
                return cleaned

        return RefusedForm

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[quote(object_id)],
                    current_app=self.admin_site.name,
                )
            )

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        # The bulk deletion deletes rows without the services: one object at a time, through delete_model.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions


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
class OperationLogAdmin(admin.ModelAdmin):
    """Read-only: entries are never changed or deleted, by anyone."""

    list_display = ["created_at", "account", "actor_name", "source", "action", "domain_name", "revision"]
    list_filter = ["source", "action"]
    list_select_related = ["account"]
    search_fields = ["domain_name", "actor_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
