"""The Django admin is the operators' site: a signed-in customer (not staff) who opens it is sent to the
console with a word of explanation, instead of the admin's log-on asking for a staff account."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext


class AdminForStaffOnly:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_PATH

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.path.startswith(self.prefix)
            and user is not None
            and user.is_authenticated
            and not user.is_staff
        ):
            messages.info(
                request,
                gettext("The administration site is for the service's operators: this is your console."),
            )
            return redirect("home")
        return self.get_response(request)
