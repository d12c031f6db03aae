"""Tags of domains: the vendor's rules (TagResources) and the writes, each in the operation log.

Every entry point (the Basic Information tab, the Alibaba-compatible API) comes here. A key appears once per
domain: setting it again changes its value. Tags do not change what edge nodes serve, so no config revision
is published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, OperationEntry, operation_log_write_many
from domains.models import MAX_TAGS, TAG_KEY_LENGTH, TAG_VALUE_LENGTH, Domain, DomainTag

RESERVED_KEY_PREFIXES = ("aliyun", "acs:")
_URL_MARKERS = ("http://", "https://")

Tags = dict[str, str]


def _refuse(field: str, message: object, code: str, **params: object) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code, params=params or None)})


def validate_tag_key(raw: str) -> str:
    """A tag key: 1-64 characters, not starting with `aliyun` or `acs:`, no URL, no control character."""
    key = (raw or "").strip()
    if not key:
        raise _refuse("key", _("Enter a tag key."), "key_required")
    if len(key) > TAG_KEY_LENGTH:
        raise _refuse(
            "key",
            _("The tag key “%(key)s…” is %(length)d characters long; a tag key has at most 64."),
            "key_too_long",
            key=key[:20],
            length=len(key),
        )
    if key.lower().startswith(RESERVED_KEY_PREFIXES):
        raise _refuse(
            "key",
            _("The tag key “%(key)s” starts with aliyun or acs:, which are reserved."),
            "key_reserved",
            key=key,
        )
    if any(marker in key.lower() for marker in _URL_MARKERS) or not key.isprintable():
        raise _refuse(
            "key",
            _("The tag key “%(key)s” contains http://, https:// or a control character: not allowed."),
            "key_invalid",
            key=key,
        )
    return key


def validate_tag_value(raw: str, *, key: str) -> str:
    """A tag value: at most 128 characters (may be empty), without a URL or control character."""
    value = (raw or "").strip()
    if len(value) > TAG_VALUE_LENGTH:
        raise _refuse(
            "value",
            _("The value of tag %(key)s is %(length)d characters long; a tag value has at most 128."),
            "value_too_long",
            key=key,
            length=len(value),
        )
    if any(marker in value.lower() for marker in _URL_MARKERS) or not value.isprintable():
        raise _refuse(
            "value",
            _("The value of tag %(key)s contains http://, https:// or a control character: not allowed."),
            "value_invalid",
            key=key,
        )
    return value


def validate_tags(pairs: Sequence[tuple[str, str]]) -> Tags:
    """Validate (key, value) pairs given together; a key given twice is refused."""
    tags: Tags = {}
    for raw_key, raw_value in pairs:
        key = validate_tag_key(raw_key)
        if key in tags:
            raise _refuse("key", _("The tag key %(key)s is given more than once."), "key_repeated", key=key)
        tags[key] = validate_tag_value(raw_value, key=key)
    return tags


def _check_count(domain: Domain, tags: Tags) -> None:
    if len(tags) > MAX_TAGS:
        raise _refuse(
            "tags",
            _("A domain has at most 20 tags; %(domain)s would have %(count)d."),
            "too_many",
            domain=domain.name,
            count=len(tags),
        )


def _tags_write(
    *, domains: Sequence[Domain], context: ChangeContext, change: Callable[[Tags], Tags]
) -> dict[int, Tags]:
    """Lock the domains, compute each one's new tags from its current ones, check them all, then write the
    differences and log each domain whose tags changed. All of them or none. Returns the tags per domain."""
    pks = sorted({domain.pk for domain in domains})
    with transaction.atomic():
        locked = list(
            Domain.objects.select_for_update().filter(pk__in=pks, deleted_at__isnull=True).order_by("pk")
        )
        if len(locked) != len(pks):
            raise Domain.DoesNotExist("A domain to tag no longer exists.")
        current: dict[int, Tags] = {pk: {} for pk in pks}
        for domain_id, key, value in DomainTag.objects.filter(domain_id__in=pks).values_list(
            "domain_id", "key", "value"
        ):
            current[domain_id][key] = value
        wanted = {domain.pk: change(dict(current[domain.pk])) for domain in locked}
        for domain in locked:
            _check_count(domain, wanted[domain.pk])
        entries = []
        for domain in locked:
            before, after = current[domain.pk], wanted[domain.pk]
            if before == after:
                continue
            DomainTag.objects.filter(domain=domain, key__in=[k for k in before if k not in after]).delete()
            for key, value in after.items():
                if before.get(key) != value:
                    DomainTag.objects.update_or_create(domain=domain, key=key, defaults={"value": value})
            entries.append(
                OperationEntry(
                    account_id=domain.account_id,
                    action="domain_tags.update",
                    domain=domain,
                    before={"tags": before},
                    after={"tags": after},
                )
            )
        operation_log_write_many(context=context, entries=entries)
    return wanted


def domain_tags_add(*, domains: Sequence[Domain], tags: Tags, context: ChangeContext) -> dict[int, Tags]:
    """Add tags (already validated) to each domain; a key the domain has gets the new value."""
    return _tags_write(domains=domains, context=context, change=lambda current: current | tags)


def domain_tags_remove(
    *, domains: Sequence[Domain], keys: Sequence[str] | None, context: ChangeContext
) -> dict[int, Tags]:
    """Remove the tags of these keys (keys a domain lacks are ignored), or every tag with `keys` None."""
    if keys is None:
        return _tags_write(domains=domains, context=context, change=lambda current: {})
    return _tags_write(
        domains=domains,
        context=context,
        change=lambda current: {k: v for k, v in current.items() if k not in keys},
    )


def domain_tags_replace(*, domain: Domain, tags: Tags, context: ChangeContext) -> Tags:
    """Make the domain's tags exactly these (validated): the tag editor of the Basic Information tab."""
    return _tags_write(domains=[domain], context=context, change=lambda current: dict(tags))[domain.pk]
