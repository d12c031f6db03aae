"""The console's root, and the account pages: Operation Log, AccessKey and Team."""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alibaba_api.services import access_key_create, access_key_delete, access_key_set_enabled
from alibaba_api.views import api_entry, is_api_call
from console.audit import ChangeContext
from console.forms import MemberAddForm, MemberRoleForm, OperationFilterForm
from console.models import OperationLog, Role
from console.selectors import (
    access_keys_for_user,
    action_label,
    get_access_key_for_user,
    get_member_for_owner,
    members_of_account,
    operation_changes,
    operation_subject,
    operations_for_user,
    require_owner,
)
from console.services import membership_add, membership_remove, membership_role_change
from domains.selectors import get_domain_for_user, membership_for
from domains.views import home

LOG_PAGE_SIZE = 20


@csrf_exempt
def root(request: HttpRequest) -> HttpResponse:
    """`/`: the Alibaba-compatible API for signed calls (they carry their own signature), else the console."""
    if is_api_call(request):
        with translation.override("en"):  # the vendor's API answers in English, whatever the browser asks
            return api_entry(request)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    return home(request)


# Operation log


def _log_rows(entries: list[OperationLog]) -> list[dict[str, object]]:
    return [
        {
            "entry": entry,
            "action": action_label(entry.action),
            "subject": operation_subject(entry),
            "changes": operation_changes(entry),
        }
        for entry in entries
    ]


@login_required
@require_GET
def operation_log(request: HttpRequest) -> HttpResponse:
    """Every change of the account, newest first, filtered by domain, user, source and time."""
    form = OperationFilterForm(request.GET or None)
    entries = operations_for_user(request.user, **form.filters())
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": _log_rows(list(page.object_list)),
        "query": query.urlencode(),
        "members": members_of_account(request.user).values_list("user__username", flat=True),
        "active_nav": "operations",
    }
    template = "console/operation_log.html"
    if request.htmx and request.htmx.target == "operation-table":
        template += "#operation-table"
    return render(request, template, context)


@login_required
@require_GET
def domain_operation_log(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """The Operation Log tab of a domain's management pane: the same log, for this domain only."""
    domain = get_domain_for_user(request.user, name=name, product=product)
    entries = operations_for_user(request.user).filter(domain=domain)
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "domain": domain,
        "page": page,
        "rows": _log_rows(list(page.object_list)),
        "query": "",
        "active_tab": "operations",
    }
    return render(request, "console/domain_operation_log.html", context)


# AccessKeys


def _access_key_context(request: HttpRequest) -> dict[str, object]:
    return {"access_keys": list(access_keys_for_user(request.user)), "active_nav": "access_keys"}


@login_required
@require_GET
def access_key_list(request: HttpRequest) -> HttpResponse:
    template = "console/access_keys.html"
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
        response = render(request, "console/access_key_created.html", context)
        response["HX-Trigger"] = json.dumps({"access-keys-changed": None})
    else:
        response = render(request, "console/access_keys.html", context)
    # The secret must not stay in any cache, nor come back with the browser's history.
    response["Cache-Control"] = "no-store"
    return response


def _keys_changed(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Trigger": json.dumps({"access-keys-changed": None})})
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
    return render(request, "console/access_key_delete_dialog.html", {"access_key": key})


# Team


def _team_context(request: HttpRequest) -> dict[str, object]:
    membership = membership_for(request.user)
    return {
        "members": list(members_of_account(request.user)),
        "is_owner": membership is not None and membership.role == Role.OWNER,
        "active_nav": "team",
    }


def _team_changed() -> HttpResponse:
    return HttpResponse(status=204, headers={"HX-Trigger": json.dumps({"team-changed": None})})


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """Members of the account and their roles: every member sees them; owners change them."""
    if membership_for(request.user) is None:
        raise Http404("No account.")
    template = "console/team.html"
    if request.htmx and request.htmx.target == "team-table":
        template += "#team-table"
    return render(request, template, _team_context(request))


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    membership = require_owner(request.user)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership_add(
                account=membership.account,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                role=form.cleaned_data["role"],
                context=ChangeContext.from_request(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _team_changed() if request.htmx else redirect("team")
    context = {"form": form, "title": _("Add user"), "action": request.path, "dialog_id": "member-add-dialog"}
    return render(request, "console/team_dialog.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_member_for_owner(request.user, member_id=member_id)
    form = MemberRoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            membership_role_change(
                membership=member, role=form.cleaned_data["role"], context=ChangeContext.from_request(request)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _team_changed() if request.htmx else redirect("team")
    context = {
        "form": form,
        "member": member,
        "title": _("Change the role of %(user)s") % {"user": member.user.get_username()},
        "action": request.path,
        "dialog_id": "member-role-dialog",
    }
    return render(request, "console/team_dialog.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET: the confirmation dialog; POST: remove the member."""
    member = get_member_for_owner(request.user, member_id=member_id)
    error = None
    if request.method == "POST":
        try:
            membership_remove(membership=member, context=ChangeContext.from_request(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return _team_changed() if request.htmx else redirect("team")
    return render(request, "console/member_remove_dialog.html", {"member": member, "error": error})
