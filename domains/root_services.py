"""Verifying root domains: an account proves it owns one (DNS or file), or an operator marks it; released
by operators. Every entry point (pages, REST, Alibaba-compatible API, admin) calls these."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.audit import ChangeContext, operation_log_write
from accounts.models import Account
from domains.models import VerificationMethod, VerifiedRoot
from domains.ownership import held_by_another_error, public_suffix_error, root_of, txt_record_name
from domains.ownership import verification_token as token_of
from domains.validators import validate_domain_name
from domains.verification import CheckFailed, dns_check, file_check

FAILURES = {
    "dns_missing": _(
        "No TXT record %(record)s was found. Add it at your DNS provider with the value %(token)s (a new "
        "record can take a few minutes to be seen), then verify again."
    ),
    "dns_mismatch": _("The TXT record %(record)s does not hold %(token)s: set its value to %(token)s."),
    "file_missing": _(
        "The file %(where)s was not found. Publish verification.html at the root of your web site, holding "
        "%(token)s, then verify again."
    ),
    "file_mismatch": _("The file %(where)s does not hold %(token)s: its content must be that value alone."),
    "file_refused": _(
        "%(where)s resolves to an address the console does not fetch from (loopback, private or reserved): "
        "verify with the DNS record instead."
    ),
    "unreachable": _("%(where)s could not be reached. Check the name, or try again in a moment."),
}
METHODS = {VerificationMethod.DNS: dns_check, VerificationMethod.FILE: file_check}


def root_for_name(name: str) -> str:
    """The root domain of `name` as typed; ValidationError keyed `name` if it is not a name or a suffix."""
    try:
        normalized = validate_domain_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from None
    root = root_of(normalized)
    if root is None:
        raise ValidationError({"name": public_suffix_error(normalized)})
    return root


def domain_root_verify(*, account: Account, name: str, method: str, context: ChangeContext) -> VerifiedRoot:
    """Check the account's proof of owning the root of `name` (`dns` or `file`); the account then holds it.

    ValidationError keyed `name` (the failed check, with what to fix) or `method`.
    """
    root = root_for_name(name)
    if method not in METHODS:
        raise ValidationError(
            {"method": ValidationError(_("Choose how to verify: dns or file."), code="invalid_method")}
        )
    held = VerifiedRoot.objects.filter(root=root).first()
    if held is not None:
        if held.account_id != account.pk:
            raise ValidationError({"name": held_by_another_error(root)})
        return held
    token = token_of(account)
    try:
        METHODS[method](root, token)
    except CheckFailed as failed:
        params = {"record": txt_record_name(root), "token": token, "where": failed.detail}
        error = ValidationError(FAILURES[failed.code], code=failed.code, params=params)
        raise ValidationError({"name": error}) from None
    return _hold(account=account, root=root, method=method, context=context)


def domain_root_mark_verified(
    *, account: Account, name: str, context: ChangeContext, method: str = VerificationMethod.OPERATOR
) -> VerifiedRoot:
    """An operator vouches that `account` owns the root of `name` (no check); refused if another holds it."""
    root = root_for_name(name)
    held = VerifiedRoot.objects.filter(root=root).first()
    if held is not None and held.account_id != account.pk:
        raise ValidationError({"name": held_by_another_error(root)})
    return held or _hold(account=account, root=root, method=method, context=context)


def _hold(*, account: Account, root: str, method: str, context: ChangeContext) -> VerifiedRoot:
    try:
        with transaction.atomic():
            verified = VerifiedRoot.objects.create(
                account=account, root=root, method=method, actor_name=context.actor_name
            )
            operation_log_write(
                context=context,
                account=account,
                action="domain_root.verify",
                after={"root": root, "method": method},
            )
    except IntegrityError:  # verified by another account at the same moment
        raise ValidationError({"name": held_by_another_error(root)}) from None
    return verified


def domain_root_release(*, verified: VerifiedRoot, context: ChangeContext) -> None:
    """Take a root away from its account (an operator's decision): adding names under it needs proof again."""
    with transaction.atomic():
        VerifiedRoot.objects.filter(pk=verified.pk).delete()
        operation_log_write(
            context=context,
            account=verified.account,
            action="domain_root.release",
            before={"root": verified.root, "method": verified.method},
        )
