"""The answer to a log-on refused by the lockout (django-axes' AXES_LOCKOUT_CALLABLE): the log-on page again,
saying why and for how long, with status 429 and Retry-After."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.lockout import cool_off_seconds, lockout_message


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    form.errors.clear()
    context = {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")}
    template = "admin/login.html" if request.path.startswith("/admin/") else "registration/login.html"
    if template == "admin/login.html":
        context["error_message"] = context["lockout"]
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(cool_off_seconds())
    return response
