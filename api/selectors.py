"""Reads of the REST API, scoped to the requesting user's account."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from accounts.selectors import operations_for_user  # noqa: F401 - shared with the console's pages
from domains.models import Domain, Origin
from domains.selectors import domains_for_user, domains_matching
from edge.models import ConfigRevision
from edge.selectors import NodeProgress, revision_deliveries

# Integer path parameters beyond what the database stores can name nothing.
MAX_ID = 2**31 - 1


def domain_for_user(user: AbstractBaseUser, *, name: str) -> Domain:
    """The user's domain of that name, or 404: another account's domain is indistinguishable from none."""
    if "\x00" in name:
        raise Http404("No such domain.")
    try:
        return (
            domains_for_user(user)
            .select_related("account", "origin_fetch")
            .prefetch_related("origins")
            .get(name=name.lower())
        )
    except Domain.DoesNotExist:
        raise Http404("No such domain.") from None


def number_in_path(value: str | int, *, what: str) -> int:
    """An integer path parameter, or 404 when it is none the database could hold."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None
    if not 0 < number <= MAX_ID:
        raise Http404(f"No such {what}.")
    return number


def origin_of(domain: Domain, *, origin_id: str | int) -> Origin:
    number = number_in_path(origin_id, what="origin")
    for origin in domain.origins.all():
        if origin.pk == number:
            return origin
    raise Http404("No such origin.")


def domain_list(
    user: AbstractBaseUser,
    *,
    query: str = "",
    match: str = "fuzzy",
    status: str = "",
    product: str = "",
    ordering: str = "name",
) -> QuerySet[Domain]:
    """The console's domain list filters: name search (fuzzy, prefix, suffix, exact), status, product."""
    domains = domains_for_user(user).select_related("origin_fetch").prefetch_related("origins")
    domains = domains_matching(domains, query=query, match=match)
    if status:
        domains = domains.filter(status=status)
    if product:
        domains = domains.filter(product=product)
    return domains.order_by(ordering, "pk")


def revisions_of(domain: Domain) -> QuerySet[ConfigRevision]:
    return domain.revisions.order_by("-number")


def revision_of(domain: Domain, *, number: str | int) -> ConfigRevision:
    value = number_in_path(number, what="revision")
    revision = domain.revisions.filter(number=value).first()
    if revision is None:
        raise Http404("No such revision.")
    return revision


def previous_documents(domain: Domain, revisions: list[ConfigRevision]) -> dict[int, dict[str, object]]:
    """The documents of the revisions just before each of `revisions`, by number, in one query."""
    numbers = [r.number - 1 for r in revisions if r.number > 1]
    if not numbers:
        return {}
    return dict(domain.revisions.filter(number__in=numbers).values_list("number", "document"))


def deployments_of(revision: ConfigRevision) -> list[NodeProgress]:
    return revision_deliveries(revision)
