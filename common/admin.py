"""Admin bases whose writes go through the services, as every other entry point's do."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from common.forms import add_service_errors


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows nobody changes through the admin: history written by the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
