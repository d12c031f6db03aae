"""What every action of the API shares: the authenticated call, its parameters, and the caller's domains.

Each handler takes an `ApiCall` and returns the success body without its RequestId, or raises `ApiError`.
Another account's domain is never found (InvalidDomain.NotFound), for every action.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accounts.audit import ChangeContext
from alibaba_api.credentials import Credential
from alibaba_api.errors import domain_not_found, invalid_parameter, missing_parameter, too_many
from alibaba_api.selectors import api_domains
from domains.models import Domain, Product

CDN_VERSION = "2018-05-10"
DCDN_VERSION = "2018-01-15"
PRODUCT_BY_VERSION = {CDN_VERSION: Product.CDN, DCDN_VERSION: Product.DCDN}

MAX_DOMAINS = 50
MAX_FUNCTIONS = 50
MAX_PAIRS = 50


@dataclass(frozen=True)
class ApiCall:
    """An authenticated call: its parameters, the key that signed it and the change context of writes."""

    params: dict[str, str]
    credential: Credential
    context: ChangeContext
    product: str

    @property
    def dcdn(self) -> bool:
        return self.product == Product.DCDN

    def param(self, name: str) -> str:
        return (self.params.get(name) or "").strip()

    def required(self, name: str) -> str:
        value = self.param(name)
        if not value:
            raise missing_parameter(name)
        return value

    def repeated(self, name: str) -> list[str]:
        """A repeat list as the SDKs flatten it (`ResourceId.1`, `ResourceId.2`...), in index order."""
        return [value for _, value in self.indexed(re.compile(rf"{re.escape(name)}\.(\d+)"))]

    def indexed(self, pattern: re.Pattern[str]) -> list[tuple[tuple[int, ...], str]]:
        """Parameters whose names match `pattern` (its groups are indexes), sorted by those indexes."""
        found = []
        for key, value in self.params.items():
            match = pattern.fullmatch(key)
            if match:
                found.append((tuple(int(group) for group in match.groups()), value.strip()))
        return sorted(found)


@dataclass(frozen=True)
class Action:
    handler: Callable[[ApiCall], dict[str, Any]]
    writes: bool


# The actions of a module: (CDN name, DCDN name) -> Action; None where a product has no such action.
ActionTable = dict[tuple[str | None, str | None], Action]


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def domain_name(raw: str) -> str:
    """A domain name as the API takes it: lower case, no trailing dot; the vendor's wildcard `.example.com`
    is the console's `*.example.com`."""
    name = raw.strip().lower().rstrip(".")
    return f"*{name}" if name.startswith(".") else name


def names(raw: str) -> list[str]:
    """Comma-separated names, normalised and de-duplicated in order."""
    found: list[str] = []
    for item in raw.split(","):
        name = domain_name(item)
        if name and name not in found:
            found.append(name)
    return found


def int_param(call: ApiCall, name: str, *, default: int, low: int, high: int) -> int:
    raw = call.param(name)
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_parameter(name, f"use a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)


def one_domain(call: ApiCall, name: str) -> Domain:
    domain = (
        api_domains(account_id=call.credential.account_id, product=call.product)
        .select_related("origin_fetch", "account")
        .filter(name=domain_name(name))
        .first()
    )
    if domain is None:
        raise domain_not_found(name)
    return domain


def caller_domains(call: ApiCall, wanted: list[str]) -> list[Domain]:
    """The caller's domains of these names, in order; InvalidDomain.NotFound names the first missing."""
    found = {
        domain.name: domain
        for domain in api_domains(account_id=call.credential.account_id, product=call.product).filter(
            name__in=wanted
        )
    }
    for name in wanted:
        if name not in found:
            raise domain_not_found(name)
    return [found[name] for name in wanted]


def lock(domains: list[Domain]) -> None:
    """Lock the domains' rows in one statement, in id order, so concurrent batches never deadlock."""
    pks = sorted(domain.pk for domain in domains)
    locked = set(
        Domain.objects.select_for_update()
        .filter(pk__in=pks, deleted_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for domain in domains:
        if domain.pk not in locked:
            raise domain_not_found(domain.name)


def check_limits(domains: int, functions: int, *, functions_label: str = "functions") -> None:
    if domains > MAX_DOMAINS:
        raise too_many(
            f"At most {MAX_DOMAINS} domain names can be given in one call; this call gives {domains}."
        )
    if functions > MAX_FUNCTIONS:
        raise too_many(
            f"At most {MAX_FUNCTIONS} {functions_label} can be given in one call; "
            f"this call gives {functions}."
        )
    if domains * functions > MAX_PAIRS:
        raise too_many(
            f"The number of domain names times the number of {functions_label} must be at most {MAX_PAIRS}; "
            f"this call gives {domains} x {functions} = {domains * functions}."
        )
