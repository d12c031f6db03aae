"""Names belong to whoever proves they own their root domain (the vendor's rule since 2020).

The root of a name is its registrable domain by the Public Suffix List (`shop.example.co.uk` →
`example.co.uk`; private suffixes such as `github.io` count, so each site under them is its own root), from
the snapshot shipped with `tldextract`, never fetched. A name under a top-level label the list does not know
(`www.acme.example`) takes the list's default rule: its last two labels are its root.

An account proves a root by a TXT record `verification.<root>` or a file `/verification.html` on the root's
web site, holding the account's verification token (`domains.verification` checks them). A verified root
belongs to one account. Adding a name (`ownership_check`, from `domains.services.domain_create`) needs:
its root verified by the adding account, not by another; and, for a wildcard, no other account's domain under
it (nor, for any name, another account's wildcard over it). The messages name the rule, never the other
account.
"""

from __future__ import annotations

import functools

import tldextract
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from domains.models import Domain, VerifiedRoot

TXT_LABEL = "verification"
FILE_PATH = "/verification.html"
TOKEN_PREFIX = "verify_"  # noqa: S105 - the vendor's prefix of a verification value, not a secret


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def root_of(name: str) -> str | None:
    """The root domain of a normalised name (a leading `*.` ignored); None for a public suffix."""
    body = name.removeprefix("*.")
    parts = _extractor()(body)
    if not parts.suffix:  # a top-level label the list does not know: its default rule `*`
        labels = body.split(".")
        return ".".join(labels[-2:]) if len(labels) >= 2 else None
    if not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"


def verification_token(account: Account) -> str:
    """The account's verification value: the same for each of its roots, and nobody else's."""
    digest = salted_hmac("domains.ownership.token", f"account:{account.pk}", algorithm="sha256").hexdigest()
    return TOKEN_PREFIX + digest[:32]


def txt_record_name(root: str) -> str:
    return f"{TXT_LABEL}.{root}"


def file_urls(root: str) -> list[str]:
    return [f"https://{root}{FILE_PATH}", f"http://{root}{FILE_PATH}"]


def root_holder(root: str) -> int | None:
    """The id of the account holding `root`, if any."""
    return VerifiedRoot.objects.filter(root=root).values_list("account_id", flat=True).first()


def _error(message, code: str, **params: object) -> ValidationError:  # type: ignore[no-untyped-def]
    return ValidationError(message, code=code, params=params)


def public_suffix_error(name: str) -> ValidationError:
    return _error(
        _(
            "%(name)s is a public suffix, under which anyone can register names: add a name under a domain "
            "you own, such as www.example.com."
        ),
        "public_suffix",
        name=name.removeprefix("*."),
    )


def held_by_another_error(root: str) -> ValidationError:
    return _error(
        _(
            "The root domain %(root)s is verified by another account: only the account that proved it owns "
            "%(root)s can add names under it."
        ),
        "owner_conflict",
        root=root,
    )


def ownership_check(*, account: Account, name: str) -> str:
    """Refuse adding `name` (normalised) to `account` unless the account holds its root; returns the root.

    Raises ValidationError with code `public_suffix`, `owner_conflict`, `wildcard_conflict` or, when the
    account has only to verify the root, `owner_verify` (params: root, record, token).
    """
    root = root_of(name)
    if root is None:
        raise public_suffix_error(name)
    holder = root_holder(root)
    if holder is not None and holder != account.pk:
        raise held_by_another_error(root)
    others = Domain.objects.filter(deleted_at__isnull=True).exclude(account=account)
    if name.startswith("*.") and others.filter(name__endswith=name[1:]).exists():
        raise _error(
            _(
                "The wildcard %(name)s would cover domain names of another account: a wildcard domain name "
                "may only cover names of your own account."
            ),
            "wildcard_conflict",
            name=name,
        )
    covering = [f"*.{'.'.join(name.split('.')[n:])}" for n in range(1, name.count("."))]
    if covering and others.filter(Q(name__in=covering)).exists():
        raise _error(
            _(
                "%(name)s is covered by a wildcard domain name of another account: a name under another "
                "account's wildcard cannot be added."
            ),
            "wildcard_conflict",
            name=name,
        )
    if holder is None:
        raise _error(
            _(
                "Verify that you own %(root)s first: add the TXT record %(record)s with the value %(token)s "
                "at your DNS provider (or publish the file verification.html holding it at the root of "
                "%(root)s), then verify."
            ),
            "owner_verify",
            root=root,
            record=txt_record_name(root),
            token=verification_token(account),
        )
    return root
