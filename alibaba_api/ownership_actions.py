"""Domain ownership on the Alibaba-compatible API: the verification content and verifying a root, with the
vendor's actions and error codes (adding a domain, which needs its root verified, is in
`alibaba_api.domain_actions`, which maps a refused name with `name_error`).

| CDN | DCDN | parameters | body |
|---|---|---|---|
| DescribeVerifyContent | DescribeDcdnVerifyContent | DomainName | `{Content}` |
| VerifyDomainOwner | VerifyDcdnDomainOwner | DomainName, VerifyType (dnsCheck, fileCheck) | `{Content}` |

Errors: `DomainOwnerVerifyFail` (the root is not verified by the caller's account, or is another account's,
or a wildcard would cover another account's names), `InvalidFile` and `VerifyError` (the file method: no
file, or the wrong content), `DomainAlreadyExist`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from alibaba_api.calls import Action, ApiCall
from alibaba_api.errors import ApiError, invalid_parameter
from domains.ownership import verification_token
from domains.root_services import domain_root_verify

VERIFY_TYPES = {"dnsCheck": "dns", "fileCheck": "file"}
OWNERSHIP_CODES = {"owner_verify", "owner_conflict", "wildcard_conflict", "public_suffix"}
FILE_CODES = {"file_missing": "InvalidFile", "file_mismatch": "VerifyError"}


def _owner_verify_fail(message: str) -> ApiError:
    return ApiError(
        "DomainOwnerVerifyFail",
        f"Owner verification of the root domain failed. {message}",
        recommend="Call DescribeVerifyContent, add the TXT record or the file, then VerifyDomainOwner.",
    )


def name_error(exc: ValidationError) -> ApiError | None:
    """The vendor's error for a refused domain name, or None if the name was not at fault."""
    errors = exc.error_dict.get("name", []) if hasattr(exc, "error_dict") else []
    for error in errors:
        message = " ".join(error.messages)
        if error.code in OWNERSHIP_CODES:
            return _owner_verify_fail(message)
        if error.code == "taken":
            return ApiError("DomainAlreadyExist", message)
        if error.code in FILE_CODES:
            return ApiError(FILE_CODES[error.code], message)
        if error.code in {"dns_missing", "dns_mismatch", "file_refused", "unreachable"}:
            return _owner_verify_fail(message)
        return invalid_parameter("DomainName", message)
    return None


def describe_verify_content(call: ApiCall) -> dict[str, Any]:
    call.required("DomainName")
    return {"Content": verification_token(_account(call))}


def verify_domain_owner(call: ApiCall) -> dict[str, Any]:
    name = call.required("DomainName")
    verify_type = call.required("VerifyType")
    if verify_type not in VERIFY_TYPES:
        raise invalid_parameter("VerifyType", f"use dnsCheck or fileCheck, not {verify_type!r}.")
    account = _account(call)
    try:
        domain_root_verify(account=account, name=name, method=VERIFY_TYPES[verify_type], context=call.context)
    except ValidationError as exc:
        raise name_error(exc) or invalid_parameter("DomainName", " ".join(exc.messages)) from None
    return {"Content": verification_token(account)}


def _account(call: ApiCall):  # type: ignore[no-untyped-def]
    from accounts.models import Account

    return Account.objects.get(pk=call.credential.account_id)


ACTIONS = {
    ("DescribeVerifyContent", "DescribeDcdnVerifyContent"): Action(describe_verify_content, writes=False),
    ("VerifyDomainOwner", "VerifyDcdnDomainOwner"): Action(verify_domain_owner, writes=True),
}
