"""Domain Names pages: the list, Add Domain Name, and the domain's management pane."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from console.audit import ChangeContext
from domains.forms import DomainAddForm, DomainFilterForm, OriginRowForm, origin_rows, origin_rows_redrawn
from domains.models import Domain, DomainStatus, Origin, Product
from domains.origin_forms import DomainDeleteForm, OriginForm
from domains.selectors import (
    DomainPaginator,
    account_for_user_rw,
    domain_list_for_user,
    get_domain_for_user,
    get_domain_for_user_rw,
    membership_for,
)
from domains.services import (
    domain_create,
    domain_delete,
    domain_disable,
    domain_enable,
    origin_add,
    origin_remove,
    origin_update,
)
from edge.services import domain_delivery_progress

# A search counts its matches up to this many: past it, the page says "more than" and asks to refine it.
SEARCH_COUNT_LIMIT = 10_000


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("domains:list", product=Product.CDN)


@login_required
@require_GET
def domain_list(request: HttpRequest, product: str) -> HttpResponse:
    filters = DomainFilterForm(request.GET)
    values = filters.values()
    domains = domain_list_for_user(
        request.user,
        product=product,
        query=values["q"],
        match=values["match"],
        status=values["status"],
        ordering=values["ordering"],
    )
    count_limit = SEARCH_COUNT_LIMIT if values["q"] else None
    page = DomainPaginator(domains, values["size"], count_limit=count_limit).get_page(request.GET.get("page"))
    params = {key: value for key, value in values.items() if value != DomainFilterForm.DEFAULTS[key]}
    # Each status label is translated once per request, not once per row.
    labels = {value: str(label) for value, label in DomainStatus.choices}
    context = {
        "product": product,
        "page": page,
        "rows": [(domain, labels[domain.status]) for domain in page],
        "filters": filters,
        "values": values,
        "filtered": bool(values["q"] or values["status"]),
        "query_string": urlencode(params),
    }
    template = (
        "domains/list.html#domain-table" if request.htmx and request.htmx.target == "domain-table" else None
    )
    return render(request, template or "domains/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def domain_add(request: HttpRequest, product: str) -> HttpResponse:
    """Add Domain Name: the domain, its business type and region, and one or more origins.

    The service validates everything and saves all or nothing; its errors go next to their fields.
    """
    account = account_for_user_rw(request.user)
    if request.method == "POST" and ("add_origin" in request.POST or "remove_origin" in request.POST):
        # "Add origin" and "Remove origin n" redraw the form with one row more or less; they save nothing.
        form = DomainAddForm(initial=request.POST.dict(), product=product)
        rows = origin_rows_redrawn(
            request.POST,
            add="add_origin" in request.POST,
            remove=_int_or_none(request.POST.get("remove_origin")),
        )
        context = {"product": product, "form": form, "rows": rows, "origins_errors": []}
        return render(request, "domains/add.html", context)

    data = request.POST if request.method == "POST" else None
    form = DomainAddForm(data, product=product)
    rows = origin_rows(data)
    origins_errors: list[str] = []
    if data is not None and form.is_valid() and all([row.is_valid() for row in rows]):
        try:
            domain = domain_create(
                account=account,
                name=form.cleaned_data["name"],
                product=product,
                business_type=form.cleaned_data["business_type"],
                coverage=form.cleaned_data["coverage"],
                description=form.cleaned_data["description"],
                origins=[row.origin() for row in rows],
                context=ChangeContext.from_request(request),
            )
        except ValidationError as exc:
            origins_errors = _add_service_errors(form, rows, exc)
        else:
            return redirect("domains:basic", product=product, name=domain.name)
    context = {"product": product, "form": form, "rows": rows, "origins_errors": origins_errors}
    return render(request, "domains/add.html", context)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _add_service_errors(form: DomainAddForm, rows: list[OriginRowForm], exc: ValidationError) -> list[str]:
    """Put each error of `domain_create` next to its field (`origins.2.port` goes to the third row's port);
    returns the errors about the origins as a whole (none given, too many), shown above the rows."""
    about_origins: list[str] = []
    for key, errors in exc.error_dict.items():
        head, _dot, rest = key.partition(".")
        index, _dot, field = rest.partition(".")
        if (
            head == "origins"
            and index.isdigit()
            and int(index) < len(rows)
            and field in rows[int(index)].fields
        ):
            rows[int(index)].add_error(field, errors)
        elif head == "origins":
            about_origins.extend(message for error in errors for message in error.messages)
        else:
            form.add_error(key if key in form.fields else None, errors)
    return about_origins


@login_required
@require_GET
def domain_basic(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    context = {"domain": domain, "origins": list(domain.origins.all()), "active_tab": "basic"}
    return render(request, "domains/basic.html", context)


@login_required
@require_GET
def domain_status(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """The status badge and delivery progress; polls itself while edge nodes are applying a change."""
    domain = get_domain_for_user(request.user, name=name, product=product)
    applied, total, nodes = domain_delivery_progress(domain)
    context = {"domain": domain, "applied": applied, "total": total, "nodes": nodes}
    return render(request, "domains/_status.html", context)


# The Basic Information tab: its sections, the origin dialogs, and Disable / Enable / Delete.

ORIGINS_SAVED = json.dumps({"origins-saved": None, "domain-changed": None})
DOMAIN_SAVED = json.dumps({"domain-saved": None, "domain-changed": None})
ORIGIN_GONE = _("Someone else removed this origin meanwhile. Close the dialog to see the current origins.")


def _can_write(request: HttpRequest) -> bool:
    membership = membership_for(request.user)
    return membership is not None and membership.can_write


def _domain_for(request: HttpRequest, product: str, name: str) -> Domain:
    """The domain for reading (GET: 404 to strangers), or for writing (POST: and 403 to viewers)."""
    if request.method == "POST":
        return get_domain_for_user_rw(request.user, name=name, product=product)
    return get_domain_for_user(request.user, name=name, product=product)


@login_required
@require_GET
def domain_info_section(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """The Basic Information section; refreshes itself after an action or while edge nodes apply one."""
    domain = get_domain_for_user(request.user, name=name, product=product)
    return render(request, "domains/basic.html#info-section", {"domain": domain})


@login_required
@require_GET
def domain_origins_section(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    context = {"domain": domain, "origins": list(domain.origins.all())}
    return render(request, "domains/basic.html#origins-section", context)


def _add_origin_service_error(form: OriginForm, exc: ValidationError) -> None:
    """Put a service's error next to the field it names ("origins.3.port" is the port field)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        field = key.rsplit(".", 1)[-1]
        form.add_error(field if field in form.fields else None, errors)


def _origin_dialog(
    request: HttpRequest, domain: Domain, form: OriginForm, *, title: str, origin: Origin | None
) -> HttpResponse:
    context = {
        "domain": domain,
        "form": form,
        "title": title,
        "origin": origin,
        "action": request.path,
        "can_write": _can_write(request),
    }
    return render(request, "domains/_origin_dialog.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def origin_add_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = _domain_for(request, product, name)
    form = OriginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            origin_add(domain=domain, origin=form.origin_input(), context=ChangeContext.from_request(request))
        except ValidationError as exc:
            _add_origin_service_error(form, exc)
        else:
            return HttpResponse(status=204, headers={"HX-Trigger": ORIGINS_SAVED})
    return _origin_dialog(request, domain, form, title=_("Add origin"), origin=None)


@login_required
@require_http_methods(["GET", "POST"])
def origin_edit_dialog(request: HttpRequest, product: str, name: str, origin_id: int) -> HttpResponse:
    domain = _domain_for(request, product, name)
    origin = get_object_or_404(Origin, pk=origin_id, domain=domain)
    form = OriginForm(request.POST or None, origin=origin)
    if request.method == "POST" and form.is_valid():
        try:
            origin_update(
                origin=origin,
                changes=form.origin_input(),
                context=ChangeContext.from_request(request),
                expected_fingerprint=form.cleaned_data.get("fingerprint") or None,
            )
        except ValidationError as exc:
            _add_origin_service_error(form, exc)
        except Origin.DoesNotExist:
            form.add_error(None, ORIGIN_GONE)
        else:
            return HttpResponse(status=204, headers={"HX-Trigger": ORIGINS_SAVED})
    title = _("Modify origin %(address)s") % {"address": origin.address}
    return _origin_dialog(request, domain, form, title=title, origin=origin)


@login_required
@require_http_methods(["GET", "POST"])
def origin_remove_dialog(request: HttpRequest, product: str, name: str, origin_id: int) -> HttpResponse:
    domain = _domain_for(request, product, name)
    origin = get_object_or_404(Origin, pk=origin_id, domain=domain)
    errors: list[str] = []
    if request.method == "POST":
        try:
            origin_remove(origin=origin, context=ChangeContext.from_request(request))
        except ValidationError as exc:
            errors = list(exc.messages)
        except Origin.DoesNotExist:
            errors = [str(ORIGIN_GONE)]
        else:
            return HttpResponse(status=204, headers={"HX-Trigger": ORIGINS_SAVED})
    context = {
        "domain": domain,
        "dialog_id": "origin-remove-dialog",
        "title": _("Remove origin"),
        "message": _("Remove the origin %(origin)s from %(domain)s? Edge nodes stop fetching from it.")
        % {"origin": f"{origin.address}:{origin.port}", "domain": domain.name},
        "confirm_label": _("Remove"),
        "danger": True,
        "close_on": "origins-saved",
        "errors": errors,
        "action": request.path,
        "can_write": _can_write(request),
    }
    return render(request, "domains/_confirm_dialog.html", context)


@dataclass(frozen=True)
class DomainAction:
    """One of Disable / Enable / Delete: its wording in the confirm dialog and the service it calls."""

    title: object
    message: object
    confirm_label: object
    danger: bool


DOMAIN_ACTIONS = {
    "disable": DomainAction(
        _("Disable domain name"),
        _(
            "Disable %(domain)s? Every edge node stops accelerating it and answers its requests with 403 "
            "until you enable it again. Its settings are kept."
        ),
        _("Disable"),
        True,
    ),
    "enable": DomainAction(
        _("Enable domain name"),
        _("Enable %(domain)s? Every edge node serves it again with its current settings."),
        _("Enable"),
        False,
    ),
    "delete": DomainAction(
        _("Delete domain name"),
        _(
            "Delete %(domain)s? It is removed from the console and from every edge node, with its origins, "
            "settings and history. This cannot be undone."
        ),
        _("Delete"),
        True,
    ),
}


def _domain_action_dialog(request: HttpRequest, product: str, name: str, action: str) -> HttpResponse:
    spec = DOMAIN_ACTIONS[action]
    domain = _domain_for(request, product, name)
    form = DomainDeleteForm(request.POST or None, domain=domain) if action == "delete" else None
    errors: list[str] = []
    if request.method == "POST" and (form is None or form.is_valid()):
        context = ChangeContext.from_request(request)
        try:
            if action == "disable":
                domain_disable(domain=domain, context=context)
            elif action == "enable":
                domain_enable(domain=domain, context=context)
            else:
                domain_delete(domain=domain, context=context)
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            return _domain_action_done(request, domain, action)
    context = {
        "domain": domain,
        "dialog_id": f"domain-{action}-dialog",
        "title": spec.title,
        "message": spec.message % {"domain": domain.name},
        "confirm_label": spec.confirm_label,
        "danger": spec.danger,
        "close_on": "domain-saved",
        "form": form,
        "errors": errors,
        "action": request.path,
        "can_write": _can_write(request),
    }
    return render(request, "domains/_confirm_dialog.html", context)


def _domain_action_done(request: HttpRequest, domain: Domain, action: str) -> HttpResponse:
    if action == "delete":
        messages.success(
            request,
            _("%(domain)s is deleted. The edge nodes stop serving it within moments.")
            % {"domain": domain.name},
        )
        url = reverse("domains:list", kwargs={"product": domain.product})
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return redirect(url)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Trigger": DOMAIN_SAVED})
    return redirect("domains:basic", product=domain.product, name=domain.name)


@login_required
@require_http_methods(["GET", "POST"])
def domain_disable_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    return _domain_action_dialog(request, product, name, "disable")


@login_required
@require_http_methods(["GET", "POST"])
def domain_enable_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    return _domain_action_dialog(request, product, name, "enable")


@login_required
@require_http_methods(["GET", "POST"])
def domain_delete_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    return _domain_action_dialog(request, product, name, "delete")
