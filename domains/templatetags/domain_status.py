"""`{% domain_status domain %}`: the status line of a domain's pages, with its delivery progress, so that the
"n of N edge nodes" line is there from the first render (not only once the line polls itself)."""

from __future__ import annotations

from django import template

from domains.delivery_status import status_context
from domains.models import Domain

register = template.Library()


@register.inclusion_tag("domains/_status.html", takes_context=True)
def domain_status(context: template.Context, domain: Domain) -> dict[str, object]:
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "can_write": context.get("can_write"),
    } | status_context(domain)
