"""The actions of the Alibaba-compatible API: CDN (2018-05-10) and DCDN (2018-01-15), ALIBABA_API.md, and
their routing: domain reads and config functions here, the domain lifecycle in `alibaba_api.domain_actions`,
tags in `alibaba_api.tags`.

Each handler takes an authenticated `ApiCall` (`alibaba_api.calls`) and returns the success body without its
RequestId, or raises `ApiError`. Config writes go through `alibaba_api.functions`, hence through
`origin_fetch.services`, which keep each configured function's ConfigId (`domains.configured`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from alibaba_api import domain_actions, ownership_actions, tags
from alibaba_api.calls import (
    CDN_VERSION,
    DCDN_VERSION,
    PRODUCT_BY_VERSION,
    Action,
    ActionTable,
    ApiCall,
    api_time,
    caller_domains,
    check_limits,
    domain_name,
    int_param,
    lock,
    names,
    one_domain,
)
from alibaba_api.errors import (
    ApiError,
    config_not_found,
    domain_not_found,
    functions_malformed,
    invalid_parameter,
)
from alibaba_api.function_base import Config, parse_config_id
from alibaba_api.functions import FUNCTIONS, FunctionCall, function_named, parse_functions
from alibaba_api.selectors import api_domains, configured_functions, domain_configs_state, ordered_origins
from domains.models import BusinessType, ConfiguredFunction, Coverage, Domain, DomainStatus, Origin
from domains.selectors import domains_matching

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20
# DomainSearchType: the console's search modes under the vendor's names.
SEARCH_TYPES = {"fuzzy_match": "fuzzy", "pre_match": "prefix", "suf_match": "suffix", "full_match": "exact"}
CDN_TYPES = (BusinessType.WEB, BusinessType.DOWNLOAD, BusinessType.VIDEO)


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
    page_size = int_param(call, "PageSize", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    page_number = int_param(call, "PageNumber", default=1, low=1, high=1_000_000)
    domains = api_domains(account_id=call.credential.account_id, product=call.product)

    domains = tags.tagged(call, domains)
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
            "GmtCreated": api_time(domain.created_at),
            "GmtModified": api_time(domain.modified_at),
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
    domain = one_domain(call, call.required("DomainName"))
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
        "GmtCreated": api_time(domain.created_at),
        "GmtModified": api_time(domain.modified_at),
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
    """The functions configured on the domain, and only those: a deleted one is absent, also by name."""
    name = call.required("DomainName")
    found = domain_configs_state(
        account_id=call.credential.account_id, product=call.product, name=domain_name(name)
    )
    if found is None:
        raise domain_not_found(name)
    state, status = found
    wanted = [name for name in call.param("FunctionNames").split(",") if name.strip()]
    functions = [function_named(name) for name in wanted] or list(FUNCTIONS.values())
    raw_id = call.param("ConfigId")
    config_id = parse_config_id(raw_id) if raw_id else None
    if raw_id and config_id is None:
        raise invalid_parameter("ConfigId", f"a ConfigId is a number, not {raw_id!r}.")
    configs: list[Config] = []
    for function in functions:
        rows = [row for row in state.configured if row.function == function.name]
        configs.extend(function.describe(state, rows))
    if config_id is not None:
        # A ConfigId that is not (or no longer) one of the domain's configurations finds nothing.
        configs = [config for config in configs if config.config_id == config_id]
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


def _origins_of_config_ids(calls: list[FunctionCall], domains: list[Domain]) -> dict[int, int | None]:
    """The origin of each `configId` the items gave (None for a domain-wide function), checked against the
    items' functions and domains. A ConfigId that no longer exists sets the function anew."""
    given = {item.config_id: item for item in calls if item.config_id is not None}
    if not given:
        return {}
    rows = ConfiguredFunction.objects.filter(pk__in=list(given)).values_list(
        "id", "domain_id", "function", "origin_id"
    )
    pks = {domain.pk for domain in domains}
    origins: dict[int, int | None] = {}
    for pk, domain_id, function, origin_id in rows:
        item = given[pk]
        if domain_id not in pks or function != item.function.name:
            raise functions_malformed(
                f"configId {pk} is not a ConfigId of {item.function.name} of these domains."
            )
        origins[pk] = origin_id
    return origins


def batch_set_domain_configs(call: ApiCall) -> dict[str, Any]:
    domain_names = names(call.required("DomainNames"))
    calls = parse_functions(call.params.get("Functions"))
    check_limits(len(domain_names), len(calls))
    domains = caller_domains(call, domain_names)
    origins = _origins_of_config_ids(calls, domains)
    written: list[dict[int, list[int]]] = []
    if len(calls) == 1 and calls[0].function.batched:
        # One function of the domain-wide settings: one batch of the shared write path, which locks the
        # domains and writes all of them or none in its own transaction.
        item = calls[0]
        written.append(item.function.apply_many(domains, item.parsed, call.context))
    else:
        with transaction.atomic():
            lock(domains)
            # Each function in order, on all the domains at once; all of it or nothing.
            for item in calls:
                origin_id = origins.get(item.config_id) if item.config_id is not None else None
                written.append(
                    item.function.apply_many(domains, item.parsed, call.context, origin_id=origin_id)
                )
    models = [
        {"ConfigId": config_id, "DomainName": domain.name, "FunctionName": item.function.name}
        for domain in domains
        for item, ids in zip(calls, written, strict=True)
        for config_id in ids[domain.pk]
    ]
    return {"DomainConfigList": {"DomainConfigModel": models}}


def delete_specific_config(call: ApiCall) -> dict[str, Any]:
    """Delete configurations by ConfigId: their settings back to the defaults, their ConfigIds gone."""
    domain = one_domain(call, call.required("DomainName"))
    raw_ids = [item.strip() for item in call.required("ConfigId").split(",") if item.strip()]
    check_limits(1, len(raw_ids), functions_label="ConfigIds")
    wanted: list[int] = []
    for raw_id in raw_ids:
        config_id = parse_config_id(raw_id)
        if config_id is None:
            raise invalid_parameter("ConfigId", f"a ConfigId is a number, not {raw_id!r}.")
        wanted.append(config_id)
    rows = {row.config_id: row for row in configured_functions(domain) if row.config_id in wanted}
    for config_id in wanted:
        if config_id not in rows:
            raise config_not_found(str(config_id), domain.name)
    with transaction.atomic():
        lock([domain])
        for row in sorted(rows.values(), key=lambda row: FUNCTIONS[row.function].reset_order):
            FUNCTIONS[row.function].reset(domain, call.context, origin_id=row.origin_id)
    return {}


def batch_delete_domain_configs(call: ApiCall) -> dict[str, Any]:
    domain_names = names(call.required("DomainNames"))
    function_names = [name for name in call.required("FunctionNames").split(",") if name.strip()]
    functions = list({function.name: function for function in map(function_named, function_names)}.values())
    check_limits(len(domain_names), len(functions))
    domains = caller_domains(call, domain_names)
    with transaction.atomic():
        lock(domains)
        for domain in domains:
            for function in sorted(functions, key=lambda f: f.reset_order):
                function.reset(domain, call.context)
    return {}


_ACTIONS_BY_NAME: ActionTable = {
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
for (_cdn_name, _dcdn_name), _action in (
    _ACTIONS_BY_NAME | domain_actions.ACTIONS | ownership_actions.ACTIONS | tags.ACTIONS
).items():
    if _cdn_name:
        ACTIONS[(CDN_VERSION, _cdn_name)] = _action
    if _dcdn_name:
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
