"""The Back-to-origin (CDN) / Origin Fetch (DCDN) tab, its sections and dialogs; the Change history tab."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import ChangeContext
from common.forms import add_service_errors
from domains.documents import effective_sni, fetch_of, forward_scheme_of
from domains.models import Domain, Origin, OriginFetchSettings, OriginType
from domains.selectors import get_domain_for_user, get_domain_for_user_rw, settings_of
from origin_fetch.forms import (
    OriginHostForm,
    OriginProtocolForm,
    OriginSniForm,
    OriginSniHostForm,
    OriginVerificationForm,
    VersionedForm,
)
from origin_fetch.history import RollbackError, domain_rollback
from origin_fetch.history_text import history_groups, summary_text
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import (
    origin_host_update,
    origin_protocol_update,
    origin_sni_update,
    origin_verification_update,
)
from origin_fetch.validators import origin_host_type_of, origin_sni_notes, origin_sni_warnings


def _origin_rows(domain: Domain, settings: OriginFetchSettings) -> list[dict[str, object]]:
    """Each origin with how the edge fetches from it (scheme and port, and why) and the SNI it sends."""
    origin_host = settings.effective_origin_host
    scheme = forward_scheme_of(settings)
    rows = []
    for origin in domain.origins.all():
        sni = effective_sni(
            origin=origin,
            sni_enabled=settings.sni_enabled,
            sni_name=settings.sni_name,
            origin_host=origin_host,
        )
        rows.append({"origin": origin, "sni": sni, "fetch": fetch_of(scheme, origin.port)})
    return rows


def _section_context(request: HttpRequest, domain: Domain) -> dict[str, object]:
    settings = settings_of(domain)
    return {
        "domain": domain,
        "settings": settings,
        "origin_rows": _origin_rows(domain, settings),
        "origin_host_type": origin_host_type_of(settings.origin_host, domain.origins.all()),
        "warnings": origin_sni_warnings(
            enabled=settings.sni_enabled, name=settings.sni_name, origin_host=settings.effective_origin_host
        ),
    }


@login_required
@require_GET
def origin_fetch_tab(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    context = _section_context(request, domain) | {"active_tab": "origin_fetch"}
    return render(request, "origin_fetch/tab.html", context)


@login_required
@require_GET
def origin_sni_section(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    return render(request, "origin_fetch/tab.html#origin-sni-section", _section_context(request, domain))


@login_required
@require_http_methods(["GET", "POST"])
def origin_sni_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    if request.method == "POST":
        domain = get_domain_for_user_rw(request.user, name=name, product=product)
    else:
        domain = get_domain_for_user(request.user, name=name, product=product)
    settings = settings_of(domain)
    form = OriginSniForm(request.POST or None, settings=settings)

    if request.method == "POST" and form.is_valid():
        try:
            origin_sni_update(
                domain=domain,
                enabled=form.cleaned_data["enabled"],
                name=form.cleaned_data["name"],
                context=ChangeContext.from_request(request),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            response = HttpResponse(status=204)
            response["HX-Trigger"] = json.dumps({"origin-sni-saved": None, "domain-changed": None})
            return response

    origins = list(domain.origins.all())
    context = {
        "domain": domain,
        "settings": settings,
        "form": form,
        "notes": origin_sni_notes(
            origins_all_oss=bool(origins) and all(o.type == OriginType.OSS for o in origins)
        ),
    }
    return render(request, "origin_fetch/origin_sni_dialog.html", context)


SAVED = json.dumps({"origin-fetch-saved": None, "domain-changed": None})


@dataclass(frozen=True)
class Section:
    """One Modify dialog of the tab: its form, how it saves, and how service errors map to its fields."""

    title: object
    form: type[VersionedForm]
    save: Callable[..., object]
    fields: dict[str, str]


SECTIONS = {
    "protocol": Section(
        _("Origin protocol policy"),
        OriginProtocolForm,
        lambda data, form, **kw: origin_protocol_update(
            enabled=data["enabled"],
            policy=data["policy"],
            http_port=data["http_port"],
            https_port=data["https_port"],
            **kw,
        ),
        {"forward_scheme": "policy"},
    ),
    "origin-host": Section(
        _("Origin host"),
        OriginHostForm,
        lambda data, form, **kw: origin_host_update(
            host_type=data["host_type"], host=form.chosen_host(), **kw
        ),
        {"origin_host": "host", "origin_host_type": "host_type"},
    ),
    "verification": Section(
        _("Origin certificate verification"),
        OriginVerificationForm,
        lambda data, form, **kw: origin_verification_update(enabled=data["enabled"], **kw),
        {},
    ),
}


@login_required
@require_GET
def origin_fetch_section(request: HttpRequest, product: str, name: str, section: str) -> HttpResponse:
    if section not in SECTIONS:
        raise Http404(_("No such section."))
    domain = get_domain_for_user(request.user, name=name, product=product)
    return render(request, f"origin_fetch/tab.html#{section}-section", _section_context(request, domain))


@login_required
@require_http_methods(["GET", "POST"])
def origin_fetch_dialog(request: HttpRequest, product: str, name: str, section: str) -> HttpResponse:
    spec = SECTIONS.get(section)
    if spec is None:
        raise Http404(_("No such section."))
    if request.method == "POST":
        domain = get_domain_for_user_rw(request.user, name=name, product=product)
    else:
        domain = get_domain_for_user(request.user, name=name, product=product)
    settings = settings_of(domain)
    form = spec.form(request.POST or None, settings=settings)
    if request.method == "POST" and form.is_valid():
        try:
            spec.save(
                form.cleaned_data,
                form=form,
                domain=domain,
                context=ChangeContext.from_request(request),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, spec.fields)
        else:
            return HttpResponse(status=204, headers={"HX-Trigger": SAVED})
    context = {
        "domain": domain,
        "form": form,
        "title": spec.title,
        "action": request.path,
        "dialog_id": f"{section}-dialog",
    }
    return render(request, "origin_fetch/settings_dialog.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def origin_sni_host_dialog(request: HttpRequest, product: str, name: str, origin_id: int) -> HttpResponse:
    if request.method == "POST":
        domain = get_domain_for_user_rw(request.user, name=name, product=product)
    else:
        domain = get_domain_for_user(request.user, name=name, product=product)
    origin = get_object_or_404(Origin, pk=origin_id, domain=domain)
    form = OriginSniHostForm(request.POST or None, origin=origin)
    if request.method == "POST" and form.is_valid():
        try:
            origin_sni_host_update(
                origin=origin, sni_host=form.sni_host, context=ChangeContext.from_request(request)
            )
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            return HttpResponse(status=204, headers={"HX-Trigger": SAVED})
    context = {
        "domain": domain,
        "form": form,
        "title": _("SNI of origin %(address)s") % {"address": origin.address},
        "action": request.path,
        "dialog_id": "origin-sni-host-dialog",
    }
    return render(request, "origin_fetch/settings_dialog.html", context)


HISTORY_PAGE_SIZE = 20


@login_required
@require_GET
def domain_history(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    revisions = domain.revisions.order_by("-number")
    page = Paginator(revisions, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    numbers = [r.number - 1 for r in shown]
    previous = {r.number: r.document for r in domain.revisions.filter(number__in=numbers)}
    rows = [
        {
            "revision": r,
            "summary": summary_text(r.summary),
            "groups": history_groups(previous.get(r.number - 1), r.document),
        }
        for r in shown
    ]
    context = {"domain": domain, "rows": rows, "page": page, "active_tab": "history"}
    return render(request, "origin_fetch/history.html", context)


@login_required
@require_POST
def domain_rollback_view(request: HttpRequest, product: str, name: str, number: int) -> HttpResponse:
    domain = get_domain_for_user_rw(request.user, name=name, product=product)
    try:
        revision = domain_rollback(domain=domain, number=number, context=ChangeContext.from_request(request))
    except RollbackError as exc:
        messages.error(request, str(exc))
    else:
        if revision is None:
            messages.info(
                request, gettext("The configuration already equals revision %(n)s.") % {"n": number}
            )
        else:
            messages.success(
                request,
                gettext(
                    "Rolled back to revision %(old)s as revision %(new)s; the edge nodes are applying it."
                )
                % {"old": number, "new": revision.number},
            )
    return redirect("origin_fetch:history", product=product, name=name)
