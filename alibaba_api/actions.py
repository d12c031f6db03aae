"""The actions of the Alibaba-compatible API: CDN (2018-05-10) and DCDN (2018-01-15), ALIBABA_API.md.

Each handler takes an authenticated `ApiCall` and returns the success body without its RequestId, or raises
`ApiError`. Writes go through `alibaba_api.functions`, hence through `origin_fetch.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from accounts.audit import ChangeContext
from alibaba_api.credentials import Credential
from alibaba_api.errors import (
    ApiError,
    config_not_found,
    domain_not_found,
    invalid_parameter,
    missing_parameter,
    too_many,
)
from alibaba_api.function_base import Config, Function, parse_config_id
from alibaba_api.functions import FUNCTIONS, FUNCTIONS_BY_CODE, function_named, parse_functions
from alibaba_api.selectors import api_domains, domain_configs_state, domain_state, ordered_origins
from domains.models import BusinessType, Coverage, Domain, DomainStatus, Origin, Product
from domains.selectors import domains_matching

CDN_VERSION = "2018-05-10"
DCDN_VERSION = "2018-01-15"
PRODUCT_BY_VERSION = {CDN_VERSION: Product.CDN, DCDN_VERSION: Product.DCDN}

MAX_DOMAINS = 50
MAX_FUNCTIONS = 50
MAX_PAIRS = 50
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
# DomainSearchType: the console's search modes under the vendor's names.
SEARCH_TYPES = {"fuzzy_match": "fuzzy", "pre_match": "prefix", "suf_match": "suffix", "full_match": "exact"}
CDN_TYPES = (BusinessType.WEB, BusinessType.DOWNLOAD, BusinessType.VIDEO)


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


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _names(raw: str) -> list[str]:
    """Comma-separated names, normalised (lower case, no trailing dot) and de-duplicated in order."""
    names: list[str] = []
    for item in raw.split(","):
        name = item.strip().lower().rstrip(".")
        if name and name not in names:
            names.append(name)
    return names


def _int_param(call: ApiCall, name: str, *, default: int, low: int, high: int) -> int:
    raw = call.param(name)
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_parameter(name, f"use a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)


def _one_domain(call: ApiCall, name: str) -> Domain:
    domain = (
        api_domains(account_id=call.credential.account_id, product=call.product)
        .select_related("origin_fetch")
        .filter(name=name.strip().lower().rstrip("."))
        .first()
    )
    if domain is None:
        raise domain_not_found(name)
    return domain


def _domains(call: ApiCall, names: list[str]) -> list[Domain]:
    """The caller's domains of these names, in order; InvalidDomain.NotFound names the first missing."""
    found = {
        domain.name: domain
        for domain in api_domains(account_id=call.credential.account_id, product=call.product).filter(
            name__in=names
        )
    }
    for name in names:
        if name not in found:
            raise domain_not_found(name)
    return [found[name] for name in names]


def _lock(domains: list[Domain]) -> None:
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


def _check_limits(domains: int, functions: int, *, functions_label: str = "functions") -> None:
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


# Reads


def _sources(origins: list[Origin]) -> list[dict[str, Any]]:
    return [
        {
            "Type": origin.type,
            "Content": origin.address,
            "Port": origin.port,
            "Priority": str(origin.priority),
            "Weight": str(origin.weight),
        }
        for origin in origins
    ]


def describe_user_domains(call: ApiCall) -> dict[str, Any]:
    page_size = _int_param(call, "PageSize", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    page_number = _int_param(call, "PageNumber", default=1, low=1, high=1_000_000)
    domains = api_domains(account_id=call.credential.account_id, product=call.product)

    name = call.param("DomainName").lower()
    search = call.param("DomainSearchType") or "full_match"
    if search not in SEARCH_TYPES:
        raise invalid_parameter("DomainSearchType", f"use one of {', '.join(SEARCH_TYPES)}, not {search!r}.")
    domains = domains_matching(domains, query=name, match=SEARCH_TYPES[search])
    status = call.param("DomainStatus")
    if status:
        if status not in DomainStatus.values:
            raise invalid_parameter(
                "DomainStatus", f"use one of {', '.join(DomainStatus.values)}, not {status!r}."
            )
        domains = domains.filter(status=status)
    cdn_type = call.param("CdnType")
    if cdn_type and not call.dcdn:
        if cdn_type not in CDN_TYPES:
            raise invalid_parameter("CdnType", f"use one of {', '.join(CDN_TYPES)}, not {cdn_type!r}.")
        domains = domains.filter(business_type=cdn_type)
    coverage = call.param("Coverage")
    if coverage:
        if coverage not in Coverage.values:
            raise invalid_parameter("Coverage", f"use one of {', '.join(Coverage.values)}, not {coverage!r}.")
        domains = domains.filter(coverage=coverage)

    total = domains.count()
    start = (page_number - 1) * page_size
    page = (
        list(domains.order_by("name").prefetch_related(ordered_origins())[start : start + page_size])
        if start < total
        else []
    )
    ssl_key = "SSLProtocol" if call.dcdn else "SslProtocol"
    items = [
        {
            "DomainName": domain.name,
            "Cname": domain.cname,
            "CdnType": domain.business_type,
            "DomainStatus": domain.status,
            "GmtCreated": _time(domain.created_at),
            "GmtModified": _time(domain.modified_at),
            "Description": domain.description,
            "Coverage": domain.coverage,
            ssl_key: "on" if domain.https_enabled else "off",
            "Sources": {"Source": _sources(list(domain.origins.all()))},
        }
        for domain in page
    ]
    return {
        "PageNumber": page_number,
        "PageSize": page_size,
        "TotalCount": total,
        "Domains": {"PageData": items},
    }


def describe_domain_detail(call: ApiCall) -> dict[str, Any]:
    domain = _one_domain(call, call.required("DomainName"))
    origins = list(domain.origins.order_by("priority", "id"))
    sources = [
        {
            "Content": origin.address,
            "Enabled": "online" if origin.enabled else "offline",
            "Port": origin.port,
            "Priority": str(origin.priority),
            "Type": origin.type,
            "Weight": str(origin.weight),
        }
        for origin in origins
    ]
    detail: dict[str, Any] = {
        "Cname": domain.cname,
        "Description": domain.description,
        "DomainName": domain.name,
        "DomainStatus": domain.status,
        "GmtCreated": _time(domain.created_at),
        "GmtModified": _time(domain.modified_at),
        "Scope": domain.coverage,
    }
    if call.dcdn:
        detail |= {"SSLProtocol": "on" if domain.https_enabled else "off", "Sources": {"Source": sources}}
        return {"DomainDetail": detail}
    detail |= {
        "CdnType": domain.business_type,
        "HttpsCname": domain.cname if domain.https_enabled else "",
        "ServerCertificateStatus": "on" if domain.https_enabled else "off",
        "SourceModels": {"SourceModel": sources},
    }
    return {"GetDomainDetailModel": dict(sorted(detail.items()))}


def describe_domain_configs(call: ApiCall) -> dict[str, Any]:
    name = call.required("DomainName")
    found = domain_configs_state(
        account_id=call.credential.account_id, product=call.product, name=name.lower().rstrip(".")
    )
    if found is None:
        raise domain_not_found(name)
    state, status = found
    domain = state.domain
    names = [name for name in call.param("FunctionNames").split(",") if name.strip()]
    functions: list[Function] = [function_named(name) for name in names] or list(FUNCTIONS.values())
    configs: list[Config] = []
    for function in functions:
        configs.extend(function.describe(state, include_default=bool(names)))
    raw_id = call.param("ConfigId")
    if raw_id:
        ref = parse_config_id(raw_id)
        if ref is None:
            raise invalid_parameter("ConfigId", f"a ConfigId is a number, not {raw_id!r}.")
        function = FUNCTIONS_BY_CODE.get(ref.code)
        if ref.domain_pk != domain.pk or function is None:
            raise config_not_found(raw_id, domain.name)
        if not function.per_origin and not names:
            configs = function.describe(state, include_default=True)
        configs = [config for config in configs if str(config.config_id) == raw_id]
        if not configs:
            raise config_not_found(raw_id, domain.name)
    return {
        "DomainConfigs": {
            "DomainConfig": [
                {
                    "FunctionName": config.function,
                    "ConfigId": str(config.config_id),
                    "Status": status,
                    "ParentId": "",
                    "FunctionArgs": {
                        "FunctionArg": [{"ArgName": name, "ArgValue": value} for name, value in config.args]
                    },
                }
                for config in configs
            ]
        }
    }


# Writes


def batch_set_domain_configs(call: ApiCall) -> dict[str, Any]:
    names = _names(call.required("DomainNames"))
    calls = parse_functions(call.params.get("Functions"))
    _check_limits(len(names), len(calls))
    domains = _domains(call, names)
    written: list[dict[int, list[int]]] = []
    if len(calls) == 1 and calls[0].function.batched:
        # One function of the domain-wide settings: one batch of the shared write path, which locks the
        # domains and writes all of them or none in its own transaction.
        item = calls[0]
        written.append(item.function.apply_many(domains, item.parsed, call.context, tag=item.config_tag))
    else:
        with transaction.atomic():
            _lock(domains)
            # Each function in order, on all the domains at once; all of it or nothing.
            for item in calls:
                written.append(
                    item.function.apply_many(domains, item.parsed, call.context, tag=item.config_tag)
                )
    models = [
        {"ConfigId": config_id, "DomainName": domain.name, "FunctionName": item.function.name}
        for domain in domains
        for item, ids in zip(calls, written, strict=True)
        for config_id in ids[domain.pk]
    ]
    return {"DomainConfigList": {"DomainConfigModel": models}}


def delete_specific_config(call: ApiCall) -> dict[str, Any]:
    domain = _one_domain(call, call.required("DomainName"))
    raw_ids = [item.strip() for item in call.required("ConfigId").split(",") if item.strip()]
    _check_limits(1, len(raw_ids), functions_label="ConfigIds")
    resets: list[tuple[Function, int | None]] = []
    for raw_id in raw_ids:
        ref = parse_config_id(raw_id)
        if ref is None:
            raise invalid_parameter("ConfigId", f"a ConfigId is a number, not {raw_id!r}.")
        function = FUNCTIONS_BY_CODE.get(ref.code)
        if ref.domain_pk != domain.pk or function is None or (ref.tag and not function.per_origin):
            raise config_not_found(raw_id, domain.name)
        if function.per_origin and not any(
            config.config_id == int(raw_id)
            for config in function.describe(domain_state(domain), include_default=True)
        ):
            raise config_not_found(raw_id, domain.name)
        resets.append((function, ref.tag if function.per_origin else None))
    with transaction.atomic():
        _lock([domain])
        for function, tag in sorted(resets, key=lambda item: item[0].reset_order):
            function.reset(domain, call.context, tag=tag)
    return {}


def batch_delete_domain_configs(call: ApiCall) -> dict[str, Any]:
    names = _names(call.required("DomainNames"))
    function_names = [name for name in call.required("FunctionNames").split(",") if name.strip()]
    functions = list({function.name: function for function in map(function_named, function_names)}.values())
    _check_limits(len(names), len(functions))
    domains = _domains(call, names)
    with transaction.atomic():
        _lock(domains)
        for domain in domains:
            for function in sorted(functions, key=lambda f: f.reset_order):
                function.reset(domain, call.context)
    return {}


@dataclass(frozen=True)
class Action:
    handler: Callable[[ApiCall], dict[str, Any]]
    writes: bool


_ACTIONS_BY_NAME = {
    ("DescribeUserDomains", "DescribeDcdnUserDomains"): Action(describe_user_domains, writes=False),
    ("DescribeCdnDomainDetail", "DescribeDcdnDomainDetail"): Action(describe_domain_detail, writes=False),
    ("DescribeCdnDomainConfigs", "DescribeDcdnDomainConfigs"): Action(describe_domain_configs, writes=False),
    ("BatchSetCdnDomainConfig", "BatchSetDcdnDomainConfigs"): Action(batch_set_domain_configs, writes=True),
    ("DeleteSpecificConfig", "DeleteDcdnSpecificConfig"): Action(delete_specific_config, writes=True),
    ("BatchDeleteCdnDomainConfig", "BatchDeleteDcdnDomainConfigs"): Action(
        batch_delete_domain_configs, writes=True
    ),
}
ACTIONS: dict[tuple[str, str], Action] = {}
for (_cdn_name, _dcdn_name), _action in _ACTIONS_BY_NAME.items():
    ACTIONS[(CDN_VERSION, _cdn_name)] = _action
    ACTIONS[(DCDN_VERSION, _dcdn_name)] = _action


def action_for(version: str, name: str) -> Action:
    if version not in PRODUCT_BY_VERSION:
        raise ApiError(
            "InvalidVersion",
            f"Specified parameter Version {version!r} is not valid: "
            f"use {CDN_VERSION} (CDN) or {DCDN_VERSION} (DCDN).",
        )
    action = ACTIONS.get((version, name))
    if action is None:
        raise ApiError(
            "InvalidAction.NotFound",
            f"Specified api {name!r} is not found for version {version}, please check your url and method.",
            status=404,
        )
    return action
