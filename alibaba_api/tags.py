"""Tags of domains through the API, as Terraform sets and reads them: TagResources, UntagResources,
DescribeTagResources and ListTagResources (CDN), TagDcdnResources, UntagDcdnResources and
DescribeDcdnTagResources (DCDN), the `Tag` of AddCdnDomain and DescribeUserDomains' filter by tag.

Tags are `Tag.N.Key` / `Tag.N.Value` (N from 1), resources `ResourceId.N` (domain names) of ResourceType
DOMAIN. The rules are the vendor's (`domains.tags`); each refusal has the vendor's code.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from alibaba_api.calls import Action, ActionTable, ApiCall, caller_domains, domain_name
from alibaba_api.errors import ApiError, missing_parameter, validation_messages
from domains.models import MAX_TAGS, Domain
from domains.selectors import domains_tagged, tags_of
from domains.tags import Tags, domain_tags_add, domain_tags_remove, validate_tag_key, validate_tags

RESOURCE_TYPE = "DOMAIN"
MAX_RESOURCES = 50
_TAG_PARAMETER = re.compile(r"Tag\.(\d+)\.(Key|Value)")

# The vendor's code of each rule of `domains.tags`.
_CODES = {
    "key_required": "InvalidTagKey",
    "key_too_long": "InvalidTagKey",
    "key_reserved": "InvalidTagKey",
    "key_invalid": "InvalidTagKey",
    "key_repeated": "TagKeyRepeated",
    "value_too_long": "InvalidTagValue",
    "value_invalid": "InvalidTagValue",
    "too_many": "TooManyTags",
}


def _refusal(exc: ValidationError) -> ApiError:
    codes = [error.code for errors in getattr(exc, "error_dict", {}).values() for error in errors]
    code = _CODES.get(codes[0] if codes else "", "InvalidParameter")
    return ApiError(code, " ".join(message for _, message in validation_messages(exc)))


def _tag_pairs(call: ApiCall) -> list[tuple[str, str | None]]:
    """`Tag.N.Key` / `Tag.N.Value` in N order; a value not given is None."""
    found: dict[int, dict[str, str]] = {}
    for key, value in call.params.items():
        match = _TAG_PARAMETER.fullmatch(key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [(parts.get("Key", ""), parts.get("Value")) for _, parts in sorted(found.items())]


def request_tags(call: ApiCall) -> Tags:
    """The tags a call sets, validated; at most 20."""
    pairs = _tag_pairs(call)
    if len(pairs) > MAX_TAGS:
        raise ApiError(
            "TooManyTags", f"At most {MAX_TAGS} tags can be given in one call; this call gives {len(pairs)}."
        )
    try:
        return validate_tags([(key, value or "") for key, value in pairs])
    except ValidationError as exc:
        raise _refusal(exc) from None


def tagged(call: ApiCall, domains: QuerySet[Domain]) -> QuerySet[Domain]:
    """DescribeUserDomains' filter: the domains having every `Tag.N` (its key, and its value if given)."""
    pairs = _tag_pairs(call)
    if not pairs:
        return domains
    try:
        wanted = [(validate_tag_key(key), value) for key, value in pairs]
    except ValidationError as exc:
        raise _refusal(exc) from None
    return domains_tagged(domains, wanted)


def _resources(call: ApiCall) -> list[Domain]:
    resource_type = call.required("ResourceType")
    if resource_type.upper() != RESOURCE_TYPE:
        raise ApiError(
            "InvalidResourceType",
            f"The specified ResourceType {resource_type!r} is invalid: use {RESOURCE_TYPE}.",
        )
    wanted = list(dict.fromkeys(domain_name(name) for name in call.repeated("ResourceId") if name))
    if not wanted:
        raise missing_parameter("ResourceId.1")
    if len(wanted) > MAX_RESOURCES:
        raise ApiError(
            "TooManyResources",
            f"At most {MAX_RESOURCES} ResourceId can be given in one call; this call gives {len(wanted)}.",
        )
    return caller_domains(call, wanted)


def tag_resources(call: ApiCall) -> dict[str, Any]:
    """TagResources: add the tags to every domain given (a key a domain has gets the new value)."""
    domains = _resources(call)
    tags = request_tags(call)
    if not tags:
        raise missing_parameter("Tag.1.Key")
    try:
        domain_tags_add(domains=domains, tags=tags, context=call.context)
    except ValidationError as exc:
        raise _refusal(exc) from None
    return {}


def untag_resources(call: ApiCall) -> dict[str, Any]:
    """UntagResources: remove the tags of `TagKey.N` (keys a domain lacks are ignored), or all (All=true)."""
    domains = _resources(call)
    keys = [key for key in call.repeated("TagKey") if key]
    remove_all = call.param("All").lower() == "true"
    if not keys and not remove_all:
        raise missing_parameter("TagKey.1")
    domain_tags_remove(domains=domains, keys=keys or None, context=call.context)
    return {}


def _tags_of(call: ApiCall) -> tuple[list[Domain], dict[int, Tags]]:
    """The domains given, the ones with every `Tag.N` of the filter, and their tags."""
    domains = _resources(call)
    if _tag_pairs(call):
        matching = set(
            tagged(call, Domain.objects.filter(pk__in=[d.pk for d in domains])).values_list("pk", flat=True)
        )
        domains = [domain for domain in domains if domain.pk in matching]
    return domains, tags_of([domain.pk for domain in domains])


def describe_tag_resources(call: ApiCall) -> dict[str, Any]:
    """DescribeTagResources: each domain given, with its tags."""
    domains, tags = _tags_of(call)
    return {
        "TagResources": [
            {
                "ResourceId": domain.name,
                "Tag": [{"Key": key, "Value": value} for key, value in tags[domain.pk].items()],
            }
            for domain in domains
        ]
    }


def list_tag_resources(call: ApiCall) -> dict[str, Any]:
    """ListTagResources (CDN): one entry per tag of each domain given, as Terraform reads them back."""
    domains, tags = _tags_of(call)
    return {
        "NextToken": "",
        "TagResources": {
            "TagResource": [
                {"ResourceId": domain.name, "ResourceType": RESOURCE_TYPE, "TagKey": key, "TagValue": value}
                for domain in domains
                for key, value in tags[domain.pk].items()
            ]
        },
    }


ACTIONS: ActionTable = {
    ("TagResources", "TagDcdnResources"): Action(tag_resources, writes=True),
    ("UntagResources", "UntagDcdnResources"): Action(untag_resources, writes=True),
    ("DescribeTagResources", "DescribeDcdnTagResources"): Action(describe_tag_resources, writes=False),
    ("ListTagResources", None): Action(list_tag_resources, writes=False),
}
