"""The Basic Information tab of a domain's management pane: its sections, the origin dialogs, and Disable,
Enable and Delete with their confirmations."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import ChangeContext
from domains.delivery_status import saved_trigger
from domains.forms import DomainDeleteForm, OriginForm
from domains.models import Domain, Origin
from domains.origin_services import origin_add, origin_remove, origin_update
from domains.selectors import get_domain_for_user
from domains.services import domain_delete, domain_disable, domain_enable

# The Basic Information tab: its sections, the origin dialogs, and Disable / Enable / Delete.

ORIGINS_SAVED = ("origins-saved", "domain-changed")
DOMAIN_SAVED = ("domain-saved", "domain-changed")
ORIGIN_GONE = _("Someone else removed this origin meanwhile. Close the dialog to see the current origins.")


def _domain_for(request: HttpRequest, product: str, name: str) -> Domain:
    """The domain for reading (GET: 404 to strangers), or for writing (POST: and 403 to viewers)."""
    return get_domain_for_user(request.user, name=name, product=product, write=request.method == "POST")


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
            return HttpResponse(status=204, headers={"HX-Trigger": saved_trigger(domain, *ORIGINS_SAVED)})
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
            return HttpResponse(status=204, headers={"HX-Trigger": saved_trigger(domain, *ORIGINS_SAVED)})
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
            return HttpResponse(status=204, headers={"HX-Trigger": saved_trigger(domain, *ORIGINS_SAVED)})
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
        return HttpResponse(status=204, headers={"HX-Trigger": saved_trigger(domain, *DOMAIN_SAVED)})
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
