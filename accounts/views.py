"""The account's pages: its Operation Log, and its Team (members and roles)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import membership_for, require_owner
from accounts.audit import ChangeContext
from accounts.forms import MemberAddForm, MemberRoleForm, OperationFilterForm
from accounts.models import Role
from accounts.operation_log import LOG_PAGE_SIZE, operation_rows
from accounts.selectors import get_member_for_owner, members_of_account, operations_for_user
from accounts.services import membership_add, membership_remove, membership_role_change
from common.forms import add_service_errors


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
        "rows": operation_rows(list(page.object_list)),
        "query": query.urlencode(),
        "members": members_of_account(request.user).values_list("user__username", flat=True),
        "active_nav": "operations",
    }
    template = "accounts/operation_log.html"
    if request.htmx and request.htmx.target == "operation-table":
        template += "#operation-table"
    return render(request, template, context)


def _team_context(request: HttpRequest) -> dict[str, object]:
    membership = membership_for(request.user)
    return {
        "members": list(members_of_account(request.user)),
        "is_owner": membership is not None and membership.role == Role.OWNER,
        "active_nav": "team",
    }


def _team_changed() -> HttpResponse:
    trigger = {"team-changed": None, "console-notice": {"message": _("Saved.")}}
    return HttpResponse(status=204, headers={"HX-Trigger": json.dumps(trigger)})


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """Members of the account and their roles: every member sees them; owners change them."""
    if membership_for(request.user) is None:
        raise Http404("No account.")
    template = "accounts/team.html"
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
            add_service_errors(form, exc)
        else:
            return _team_changed() if request.htmx else redirect("team")
    context = {"form": form, "title": _("Add user"), "action": request.path, "dialog_id": "member-add-dialog"}
    return render(request, "accounts/team_dialog.html", context)


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
            add_service_errors(form, exc)
        else:
            return _team_changed() if request.htmx else redirect("team")
    context = {
        "form": form,
        "member": member,
        "title": _("Change the role of %(user)s") % {"user": member.user.get_username()},
        "action": request.path,
        "dialog_id": "member-role-dialog",
    }
    return render(request, "accounts/team_dialog.html", context)


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
    return render(request, "accounts/member_remove_dialog.html", {"member": member, "error": error})
