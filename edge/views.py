"""A domain's revision history, with a readable diff of each change, and rollback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from console.audit import ChangeContext
from domains.selectors import get_domain_for_user, get_domain_for_user_rw, membership_for
from edge.services import RollbackError, document_diff, domain_rollback

PAGE_SIZE = 20


@login_required
@require_GET
def domain_history(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    page = Paginator(domain.revisions.order_by("-number"), PAGE_SIZE).get_page(request.GET.get("page"))
    revisions = list(page.object_list)
    numbers = [r.number - 1 for r in revisions]
    previous = {r.number: r.document for r in domain.revisions.filter(number__in=numbers)}
    rows = [{"revision": r, "diff": document_diff(previous.get(r.number - 1), r.document)} for r in revisions]
    membership = membership_for(request.user)
    context = {
        "domain": domain,
        "rows": rows,
        "page": page,
        "active_tab": "history",
        "can_write": membership is not None and membership.can_write,
    }
    return render(request, "edge/history.html", context)


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
            messages.info(request, _("The configuration already equals revision %(n)s.") % {"n": number})
        else:
            messages.success(
                request,
                _("Rolled back to revision %(old)s as revision %(new)s; the edge nodes are applying it.")
                % {"old": number, "new": revision.number},
            )
    return redirect("domains:history", product=product, name=name)
