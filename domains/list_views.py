"""The Domain Names list's own actions: batch Disable / Enable / Delete of the checked rows, and the hint
whether each row's DNS points at its CNAME yet (row actions open the domain's own dialogs)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import require_write
from accounts.audit import ChangeContext
from domains.batch_services import domains_delete, domains_set_enabled
from domains.cname_check import cname_states
from domains.forms import PAGE_SIZES
from domains.models import Domain
from domains.selectors import domains_for_user

# A batch acts on the checked rows of one page at most.
BATCH_LIMIT = max(PAGE_SIZES)
LIST_CHANGED = json.dumps({"domain-list-saved": None, "domain-changed": None})


@dataclass(frozen=True)
class BatchAction:
    title: Promise
    message: Promise  # %(count)s, %(names)s
    confirm_label: Promise
    danger: bool


BATCH_ACTIONS = {
    "disable": BatchAction(
        _("Disable domain names"),
        _("Disable these %(count)s domain names? Every edge node stops serving them until they are enabled."),
        _("Disable"),
        True,
    ),
    "enable": BatchAction(
        _("Enable domain names"),
        _("Enable these %(count)s domain names? The edge nodes serve them again once they apply the change."),
        _("Enable"),
        False,
    ),
    "delete": BatchAction(
        _("Delete domain names"),
        _(
            "Delete these %(count)s domain names? They are removed from the console and from every edge "
            "node, with their origins, settings and history. This cannot be undone."
        ),
        _("Delete"),
        True,
    ),
}


def _checked_domains(request: HttpRequest, product: str) -> list[Domain]:
    """The checked rows: the user's live domains of this product, by name; 404 if any is not one of them
    (another account's name is indistinguishable from none)."""
    source = request.POST if request.method == "POST" else request.GET
    names = sorted({name.strip().lower() for name in source.getlist("name") if name.strip()})
    if len(names) > BATCH_LIMIT:
        raise Http404(gettext("No such domain."))
    domains = list(domains_for_user(request.user).filter(product=product, name__in=names).order_by("name"))
    if len(domains) != len(names):
        raise Http404(gettext("No such domain."))
    return domains


@login_required
@require_http_methods(["GET", "POST"])
def domain_batch_dialog(request: HttpRequest, product: str, action: str) -> HttpResponse:
    """Confirm, then disable, enable or delete the checked domain names, all of them or none."""
    spec = BATCH_ACTIONS.get(action)
    if spec is None:
        raise Http404
    domains = _checked_domains(request, product)
    errors: list[str] = []
    if request.method == "POST":
        require_write(request.user)
        if domains:
            context = ChangeContext.from_request(request)
            try:
                if action == "delete":
                    domains_delete(domains=domains, context=context)
                else:
                    domains_set_enabled(domains=domains, enabled=action == "enable", context=context)
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                messages.success(request, _done_message(action, len(domains)))
                if request.htmx:
                    return HttpResponse(status=204, headers={"HX-Trigger": LIST_CHANGED})
                return redirect("domains:list", product=product)
        else:
            errors = [gettext("Select one or more domain names first.")]
    context = {
        "product": product,
        "domains": domains,
        "dialog_id": f"domain-batch-{action}-dialog",
        "title": spec.title,
        "message": spec.message % {"count": len(domains)},
        "confirm_label": spec.confirm_label,
        "danger": spec.danger,
        "errors": errors,
        "action": request.path,
    }
    return render(request, "domains/_batch_dialog.html", context)


def _done_message(action: str, count: int) -> str:
    if action == "delete":
        text = ngettext(
            "%(count)s domain name deleted. The edge nodes stop serving it within moments.",
            "%(count)s domain names deleted. The edge nodes stop serving them within moments.",
            count,
        )
    elif action == "disable":
        text = ngettext(
            "%(count)s domain name disabled. The edge nodes stop serving it within moments.",
            "%(count)s domain names disabled. The edge nodes stop serving them within moments.",
            count,
        )
    else:
        text = ngettext(
            "%(count)s domain name enabled. The edge nodes serve it again once they apply the change.",
            "%(count)s domain names enabled. The edge nodes serve them again once they apply the change.",
            count,
        )
    return text % {"count": count}


@login_required
@require_GET
def domain_cname_hints(request: HttpRequest, product: str) -> HttpResponse:
    """For the rows of a page (`id`, up to a page's size): a hint where DNS does not point at the CNAME.

    Ids that are not the user's domains are left out, as if they did not exist.
    """
    ids = [int(value) for value in request.GET.getlist("id") if value.isdigit()][:BATCH_LIMIT]
    domains = list(
        domains_for_user(request.user).filter(product=product, pk__in=ids).only("pk", "name", "cname")
    )
    states = cname_states([(domain.name, domain.cname) for domain in domains])
    rows = [(domain, states[domain.name]) for domain in domains]
    return render(request, "domains/_cname_hints.html", {"rows": rows})
