"""Reads of domains, scoped to what a user may see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Reverse
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext

from accounts.access import membership_for, require_write
from domains.models import Domain, DomainTag, OriginFetchSettings

# How a name search matches, as the vendor's DescribeUserDomains offers it: anywhere in the name (fuzzy), at
# its start (prefix), at its end (suffix) or the whole name (exact). Names are stored in lower case, so the
# lookups are the case-sensitive ones that PostgreSQL's indexes serve (migration 0003): a trigram GIN index
# for contains, pattern-ops B-trees for startswith on the name and on the reversed name (suffix), and the
# unique index for exact.
SEARCH_LOOKUPS = {"fuzzy": "contains", "prefix": "startswith", "suffix": "endswith", "exact": "exact"}
LIST_ORDERINGS = ("name", "-name", "created_at", "-created_at")


def domains_for_user(user: AbstractBaseUser) -> QuerySet[Domain]:
    membership = membership_for(user)
    if membership is None:
        return Domain.objects.none()
    return Domain.objects.filter(account_id=membership.account_id, deleted_at__isnull=True)


def settings_of(domain: Domain) -> OriginFetchSettings:
    """The domain's back-to-origin settings: its row, or the defaults (version 1) when none was ever saved.

    Every page, API and the document compiler read settings through here; only a change writes the row.
    """
    try:
        return domain.origin_fetch
    except OriginFetchSettings.DoesNotExist:
        return OriginFetchSettings(domain=domain)


def get_domain_for_user(user: AbstractBaseUser, *, name: str, product: str, write: bool = False) -> Domain:
    """The user's domain of that product, or 404: another account's domain is indistinguishable from none.

    With `write`, 403 for a read-only member (after the 404: a stranger learns nothing from a 403).
    """
    try:
        domain = (
            domains_for_user(user).select_related("account", "origin_fetch").get(name=name, product=product)
        )
    except Domain.DoesNotExist:
        raise Http404(gettext("No such domain.")) from None
    if write:
        require_write(user)
    return domain


def get_domain_for_user_rw(user: AbstractBaseUser, *, name: str, product: str) -> Domain:
    """As get_domain_for_user, and 403 for a read-only member."""
    return get_domain_for_user(user, name=name, product=product, write=True)


def domains_matching(domains: QuerySet[Domain], *, query: str, match: str = "fuzzy") -> QuerySet[Domain]:
    """`domains` whose name matches `query` in one of the SEARCH_LOOKUPS modes; all of them for no query."""
    query = query.strip().lower()
    if not query:
        return domains
    if match == "suffix":  # a prefix of the reversed name, which a B-tree index serves
        return domains.alias(reversed_name=Reverse("name")).filter(reversed_name__startswith=query[::-1])
    return domains.filter(**{f"name__{SEARCH_LOOKUPS[match]}": query})


def domain_list_for_user(
    user: AbstractBaseUser,
    *,
    product: str,
    query: str = "",
    match: str = "fuzzy",
    status: str = "",
    ordering: str = "name",
) -> QuerySet[Domain]:
    """The Domain Names page: the user's domains of one product, searched, filtered by status and sorted.

    Only the columns the page shows are loaded. Names are unique; creation times are not (a bulk import
    shares one), so that ordering ends with the primary key, in the same direction, to keep pages stable.
    """
    domains = domains_matching(domains_for_user(user).filter(product=product), query=query, match=match)
    if status:
        domains = domains.filter(status=status)
    order = (
        [ordering] if ordering.lstrip("-") == "name" else [ordering, "-pk" if ordering[0] == "-" else "pk"]
    )
    return domains.only("id", "name", "product", "cname", "status", "https_enabled", "created_at").order_by(
        *order
    )


class DomainPaginator(Paginator):
    """Pages of a domain list that stay fast deep into 100,000 rows.

    A page is read as the rows whose ids are that page of the list's ids: PostgreSQL finds the ids from an
    index alone (skipping index entries, not table rows, to reach a middle page), then reads just those rows.
    With `count_limit`, counting stops there (`capped` tells): a search that matches most of 100,000 names
    would otherwise read every one of them to count them.
    """

    def __init__(self, *args: Any, count_limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_limit = count_limit
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.count_limit is None:
            return super().count
        found = self.object_list[: self.count_limit + 1].count()  # type: ignore[index]
        self.capped = found > self.count_limit
        return min(found, self.count_limit)

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]  # type: ignore[attr-defined]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)  # type: ignore[attr-defined]


def tags_of(domain_ids: list[int]) -> dict[int, dict[str, str]]:
    """The tags of these domains, per domain id, keys in order."""
    tags: dict[int, dict[str, str]] = {pk: {} for pk in domain_ids}
    for domain_id, key, value in (
        DomainTag.objects.filter(domain_id__in=domain_ids)
        .order_by("key")
        .values_list("domain_id", "key", "value")
    ):
        tags[domain_id][key] = value
    return tags


def domains_tagged(domains: QuerySet[Domain], tags: list[tuple[str, str | None]]) -> QuerySet[Domain]:
    """`domains` that have every one of these tags: a key, and its value unless the value is None."""
    for key, value in tags:
        found = DomainTag.objects.filter(domain=OuterRef("pk"), key=key)
        if value is not None:
            found = found.filter(value=value)
        domains = domains.filter(Exists(found))
    return domains
