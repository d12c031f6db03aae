"""The domain lifecycle of the API, both products: add, modify the origins, stop, start, delete (one domain or
a batch), and the certificate information that Terraform reads back with a domain.

Every write goes through `domains.services`, with the same rules, operation log and delivery as the pages; a
refusal of the services comes back with the vendor's code and the service's own message. Statuses follow
delivery: `configuring` until every edge node applied the change, then `online`; `offline` once stopped.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account
from alibaba_api.calls import Action, ActionTable, ApiCall, caller_domains, check_limits, names, one_domain
from alibaba_api.errors import (
    ApiError,
    domain_exists,
    illegal_operation,
    invalid_parameter,
    sources_malformed,
    validation_messages,
)
from alibaba_api.ownership_actions import name_error
from alibaba_api.tags import request_tags
from domains.models import BusinessType, Coverage, Domain, DomainStatus, OriginPriority
from domains.origin_services import OriginInput, domain_origins_replace
from domains.services import domain_create, domain_delete, domain_disable, domain_enable
from domains.tags import domain_tags_add

SOURCE_FIELDS = ("content", "type", "port", "priority", "weight")
CDN_TYPES = (BusinessType.WEB, BusinessType.DOWNLOAD, BusinessType.VIDEO)


def parse_sources(raw: str) -> list[OriginInput]:
    """`Sources` as the vendor takes it: a JSON array of {content, type, port, priority, weight}.

    Field names are read in any case (Terraform sends `Weight` beside `content`); numbers may be strings.
    Port defaults to 80, priority to 20 (primary), weight to 10.
    """
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise sources_malformed(f"it is not valid JSON ({exc}).") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise sources_malformed(
            "it must be a non-empty JSON array of {content, type, port, priority, weight}."
        )
    origins = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise sources_malformed(f"source {index} is not an object.")
        fields = {str(key).lower(): value for key, value in item.items()}
        unknown = sorted(set(fields) - set(SOURCE_FIELDS))
        if unknown:
            raise sources_malformed(
                f"source {index} has {', '.join(unknown)}; a source has {', '.join(SOURCE_FIELDS)}."
            )
        for name in ("content", "type"):
            if not isinstance(fields.get(name), str) or not fields[name].strip():
                raise sources_malformed(f"source {index} has no {name}.")
        numbers = {}
        for name, default in (("port", 80), ("priority", OriginPriority.PRIMARY), ("weight", 10)):
            value = fields.get(name, default)
            if isinstance(value, bool) or not str(value).strip().isdigit():
                raise sources_malformed(
                    f"the {name} of source {index} must be a whole number, not {value!r}."
                )
            numbers[name] = int(str(value))
        origins.append(OriginInput(type=fields["type"].strip(), address=fields["content"].strip(), **numbers))
    return origins


def _refusal(exc: ValidationError) -> ApiError:
    """A service's refusal as the vendor's error: its code by the field refused, the service's message."""
    messages = validation_messages(exc)
    field, _ = messages[0]
    text = " ".join(message for _, message in messages)
    codes = {error.code for errors in getattr(exc, "error_dict", {}).values() for error in errors}
    if field == "name" and "taken" in codes:
        return domain_exists(text)
    if field == "name" and (ownership := name_error(exc)) is not None:
        return ownership
    if field and field.startswith("origins"):
        position = field.split(".")
        where = f"source {int(position[1]) + 1}: " if len(position) > 1 and position[1].isdigit() else ""
        return sources_malformed(where + text)
    parameter = {"name": "DomainName", "business_type": "CdnType", "coverage": "Scope"}.get(
        field or "", field
    )
    return invalid_parameter(parameter or "DomainName", text)


def add_domain(call: ApiCall) -> dict[str, Any]:
    """AddCdnDomain / AddDcdnDomain: the domain with its origins (and tags), `configuring` until delivered."""
    name = call.required("DomainName")
    cdn_type = BusinessType.DYNAMIC if call.dcdn else call.required("CdnType")
    if cdn_type not in (BusinessType.DYNAMIC,) + CDN_TYPES:
        raise invalid_parameter("CdnType", f"use one of {', '.join(CDN_TYPES)}, not {cdn_type!r}.")
    scope = call.param("Scope") or Coverage.DOMESTIC
    if scope not in Coverage.values:
        raise invalid_parameter("Scope", f"use one of {', '.join(Coverage.values)}, not {scope!r}.")
    origins = parse_sources(call.required("Sources"))
    tags = request_tags(call)
    try:
        with transaction.atomic():
            domain = domain_create(
                account=Account.objects.get(pk=call.credential.account_id),
                name=_vendor_name(name),
                product=call.product,
                business_type=cdn_type,
                coverage=scope,
                origins=origins,
                context=call.context,
            )
            if tags:
                domain_tags_add(domains=[domain], tags=tags, context=call.context)
    except ValidationError as exc:
        raise _refusal(exc) from None
    return {}


def _vendor_name(raw: str) -> str:
    """The vendor writes a wildcard domain `.example.com`; the console `*.example.com`."""
    name = raw.strip()
    return f"*{name}" if name.startswith(".") else name


def modify_domain(call: ApiCall) -> dict[str, Any]:
    """ModifyCdnDomain / UpdateDcdnDomain: the origins become `Sources` (without it, nothing changes)."""
    domain = one_domain(call, call.required("DomainName"))
    raw = call.param("Sources")
    if raw:
        try:
            domain_origins_replace(domain=domain, origins=parse_sources(raw), context=call.context)
        except ValidationError as exc:
            raise _refusal(exc) from None
    return {}


def _set_running(call: ApiCall, domain: Domain, *, running: bool) -> None:
    try:
        if running:
            domain_enable(domain=domain, context=call.context)
        else:
            domain_disable(domain=domain, context=call.context)
    except ValidationError as exc:
        raise _refusal(exc) from None


def stop_domain(call: ApiCall) -> dict[str, Any]:
    """StopCdnDomain: edge nodes stop serving the domain; its status is `offline` at once."""
    domain = one_domain(call, call.required("DomainName"))
    if domain.status == DomainStatus.OFFLINE:
        raise illegal_operation(f"the domain {domain.name} is already stopped (offline).")
    _set_running(call, domain, running=False)
    return {}


def start_domain(call: ApiCall) -> dict[str, Any]:
    """StartCdnDomain: a stopped domain is served again; `configuring` until every edge node has it."""
    domain = one_domain(call, call.required("DomainName"))
    if domain.status != DomainStatus.OFFLINE:
        raise illegal_operation(
            f"only a stopped (offline) domain can be started; {domain.name} is {domain.status}."
        )
    _set_running(call, domain, running=True)
    return {}


def _batch_set_running(call: ApiCall, *, running: bool) -> dict[str, Any]:
    """BatchStartCdnDomain / BatchStopCdnDomain: all the domains or none; one already so is left as it is."""
    wanted = names(call.required("DomainNames"))
    check_limits(len(wanted), 1)
    domains = caller_domains(call, wanted)
    with transaction.atomic():
        for domain in domains:
            if (domain.status != DomainStatus.OFFLINE) != running:
                _set_running(call, domain, running=running)
    return {}


def batch_start_domains(call: ApiCall) -> dict[str, Any]:
    return _batch_set_running(call, running=True)


def batch_stop_domains(call: ApiCall) -> dict[str, Any]:
    return _batch_set_running(call, running=False)


def delete_domain(call: ApiCall) -> dict[str, Any]:
    """DeleteCdnDomain: the domain is gone from the API at once, and from every edge node as they apply it."""
    domain = one_domain(call, call.required("DomainName"))
    try:
        domain_delete(domain=domain, context=call.context)
    except ValidationError as exc:
        raise _refusal(exc) from None
    return {}


def describe_certificate_info(call: ApiCall) -> dict[str, Any]:
    """DescribeDomainCertificateInfo: the domain's HTTPS certificate, which Terraform reads with a domain.

    The console keeps no certificates of its own: a domain's entry says whether HTTPS is on.
    """
    domain = one_domain(call, call.required("DomainName"))
    https = "on" if domain.https_enabled else "off"
    info: dict[str, Any] = {"DomainName": domain.name, "CertName": "", "CertType": "", "CertId": ""}
    if call.dcdn:
        info |= {"SSLProtocol": https, "SSLPub": "", "Status": "success"}
    else:
        info |= {"ServerCertificateStatus": https, "ServerCertificate": "", "Status": "success"}
    return {"CertInfos": {"CertInfo": [info]}}


def set_certificate(call: ApiCall) -> dict[str, Any]:
    """SetCdnDomainSSLCertificate: the console keeps no HTTPS certificates of accelerated domains, so only a
    call that leaves HTTPS as it is succeeds (Terraform sends `SSLProtocol=off` when it creates a domain)."""
    domain = one_domain(call, call.required("DomainName"))
    protocol = call.required("SSLProtocol").lower()
    if protocol not in ("on", "off"):
        raise invalid_parameter("SSLProtocol", f"use on or off, not {protocol!r}.")
    if (protocol == "on") != domain.https_enabled or call.param("SSLPub") or call.param("CertId"):
        raise invalid_parameter(
            "SSLProtocol",
            f"HTTPS of {domain.name} is {'on' if domain.https_enabled else 'off'} and stays so: this console "
            "does not manage the HTTPS certificates of accelerated domains.",
        )
    return {}


ACTIONS: ActionTable = {
    ("AddCdnDomain", "AddDcdnDomain"): Action(add_domain, writes=True),
    ("ModifyCdnDomain", "UpdateDcdnDomain"): Action(modify_domain, writes=True),
    ("StopCdnDomain", "StopDcdnDomain"): Action(stop_domain, writes=True),
    ("StartCdnDomain", "StartDcdnDomain"): Action(start_domain, writes=True),
    ("DeleteCdnDomain", "DeleteDcdnDomain"): Action(delete_domain, writes=True),
    ("BatchStartCdnDomain", None): Action(batch_start_domains, writes=True),
    ("BatchStopCdnDomain", None): Action(batch_stop_domains, writes=True),
    ("SetCdnDomainSSLCertificate", "SetDcdnDomainSSLCertificate"): Action(set_certificate, writes=True),
    ("DescribeDomainCertificateInfo", "DescribeDcdnDomainCertificateInfo"): Action(
        describe_certificate_info, writes=False
    ),
}
