"""Retry of a failed edge node from a domain's status line (`domains.views.domain_status` draws the line)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from domains.delivery_status import delivery_retry, status_context
from domains.selectors import get_domain_for_user_rw


@login_required
@require_POST
def node_retry_view(request: HttpRequest, product: str, name: str, node: str) -> HttpResponse:
    """Push the domain's latest revision to one edge node again, now (owners and administrators)."""
    domain = get_domain_for_user_rw(request.user, name=name, product=product)
    row = delivery_retry(domain=domain, node_name=node)
    if row is None:
        raise Http404(gettext("No such edge node for this domain."))
    if row.status == "applied":
        message = gettext("Edge node %(node)s already applied this change.") % {"node": node}
    else:
        message = gettext("Retrying edge node %(node)s…") % {"node": node}
    if not request.htmx:
        return redirect("domains:basic", product=product, name=name)
    response = render(request, "domains/_status.html", status_context(domain))
    response["HX-Trigger"] = json.dumps({"console-notice": {"message": message}})
    return response
