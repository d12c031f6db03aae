"""The AccessKey page: a user's own keys for the Alibaba-compatible API (the secret is shown once)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import ChangeContext
from alibaba_api.selectors import access_keys_for_user, get_access_key_for_user
from alibaba_api.services import access_key_create, access_key_delete, access_key_set_enabled


def _access_key_context(request: HttpRequest) -> dict[str, object]:
    return {"access_keys": list(access_keys_for_user(request.user)), "active_nav": "access_keys"}


@login_required
@require_GET
def access_key_list(request: HttpRequest) -> HttpResponse:
    template = "alibaba_api/access_keys.html"
    if request.htmx and request.htmx.target == "access-key-table":
        template += "#access-key-table"
    return render(request, template, _access_key_context(request))


@login_required
@require_POST
def access_key_create_view(request: HttpRequest) -> HttpResponse:
    """Create a key for the user; this response is the only place its secret ever appears."""
    try:
        created = access_key_create(user=request.user, context=ChangeContext.from_request(request))
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from None
    context = _access_key_context(request) | {"created": created}
    if request.htmx:
        response = render(request, "alibaba_api/access_key_created.html", context)
        response["HX-Trigger"] = json.dumps({"access-keys-changed": None})
    else:
        response = render(request, "alibaba_api/access_keys.html", context)
    # The secret must not stay in any cache, nor come back with the browser's history.
    response["Cache-Control"] = "no-store"
    return response


def _keys_changed(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        trigger = {"access-keys-changed": None, "console-notice": {"message": gettext("Saved.")}}
        return HttpResponse(status=204, headers={"HX-Trigger": json.dumps(trigger)})
    return redirect("access_keys")


@login_required
@require_POST
def access_key_enable(request: HttpRequest, access_key_id: str) -> HttpResponse:
    key = get_access_key_for_user(request.user, access_key_id=access_key_id)
    access_key_set_enabled(access_key=key, enabled=True, context=ChangeContext.from_request(request))
    return _keys_changed(request)


@login_required
@require_POST
def access_key_disable(request: HttpRequest, access_key_id: str) -> HttpResponse:
    key = get_access_key_for_user(request.user, access_key_id=access_key_id)
    access_key_set_enabled(access_key=key, enabled=False, context=ChangeContext.from_request(request))
    return _keys_changed(request)


@login_required
@require_http_methods(["GET", "POST"])
def access_key_delete_view(request: HttpRequest, access_key_id: str) -> HttpResponse:
    """GET: the confirmation dialog; POST: delete the key."""
    key = get_access_key_for_user(request.user, access_key_id=access_key_id)
    if request.method == "POST":
        access_key_delete(access_key=key, context=ChangeContext.from_request(request))
        return _keys_changed(request)
    return render(request, "alibaba_api/access_key_delete_dialog.html", {"access_key": key})
