"""Vendor error codes of the Alibaba-compatible API and the exception that carries one to the response.

Codes from ALIBABA_API.md, and where it is silent the vendor's own:

| code | status | when |
|---|---|---|
| InvalidAccessKeyId.NotFound | 404 | unknown AccessKey ID |
| InvalidAccessKeyId.Inactive | 400 | the key is disabled, or its user is inactive or left the key's account |
| SignatureDoesNotMatch, IncompleteSignature, InvalidTimeStamp.Expired, SignatureNonceUsed | 400 | signature |
| Forbidden.RAM | 403 | a read-only (viewer) key calls a write action |
| InvalidAction.NotFound | 404 | unknown action for the version |
| InvalidVersion | 400 | neither 2018-05-10 (CDN) nor 2018-01-15 (DCDN) |
| MissingParameter | 400 | a required parameter is absent or empty |
| InvalidParameter | 400 | a parameter value is out of range (PageSize, DomainStatus, ConfigId...) |
| InvalidDomain.NotFound | 404 | no such domain in the caller's account (another account's looks the same) |
| DomainAlreadyExist | 400 | AddCdnDomain of a name already added (by any account) |
| DomainOwnerVerifyFail | 400 | AddCdnDomain of a name whose ownership the account has not verified |
| InvalidSources.Malformed | 400 | Sources is not the vendor's JSON, or an origin breaks a rule (named) |
| IllegalOperation | 403 | Stop of a stopped domain, Start of a domain that is not stopped |
| InvalidTagKey, InvalidTagValue, TagKeyRepeated, TooManyTags | 400 | a tag breaks the vendor's rules |
| InvalidResourceType | 400 | a ResourceType other than DOMAIN |
| InvalidConfigId.NotFound | 404 | a ConfigId that is not one of the domain's configurations |
| InvalidFunction.NotSupported | 400 | unknown functionName |
| InvalidFunctions.Malformed | 400 | Functions is not the expected JSON |
| FunctionArgError | 400 | a missing, unknown or repeated argName |
| InvalidArgValue.Malformed | 400 | a bad argValue; the message names the argument and the rule |
| TooManyDomains | 400 | more than 50 domains, 50 functions, or domains x functions > 50 |
| Throttling | 429 | over ALIBABA_API_RATE_LIMIT calls per second per key, with `x-acs-retry-after` (ms) |
| Throttling.User | 429 | over ALIBABA_API_ACCOUNT_RATE_LIMIT calls/s per account, or a key or address |
| | | locked after failed signatures (`alibaba_api.throttling`); with `x-acs-retry-after` (ms) |
| DomainOwnerVerifyFail, InvalidFile, VerifyError | 400 | root ownership (`alibaba_api.ownership_actions`) |
| DomainAlreadyExist | 400 | AddCdnDomain of a name already added |
| RequestEntityTooLarge | 413 | a body over 1 MiB (refused from its Content-Length, or once 1 MiB was read) |
| MissingContentLength | 411 | a chunked body on a server that does not decode chunks (gunicorn does) |
| ServiceBusy | 403 | the database refused (lock timeout, deadlock); retry |
| ServiceUnavailable | 503 | the nonce store (cache) is unreachable |
| UnsupportedHTTPMethod | 405 | a method other than GET or POST |
| InternalError | 500 | anything unexpected |
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ApiError(Exception):
    """An error answered with the vendor body `{RequestId, HostId, Code, Message, Recommend}`."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        recommend: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.recommend = recommend
        self.headers = headers or {}


def missing_parameter(name: str) -> ApiError:
    return ApiError(
        "MissingParameter",
        f"The input parameter {name} that is mandatory for processing this request is not supplied.",
    )


def invalid_parameter(name: str, rule: str) -> ApiError:
    return ApiError("InvalidParameter", f"The specified parameter {name} is invalid: {rule}")


def domain_not_found(name: str) -> ApiError:
    return ApiError(
        "InvalidDomain.NotFound",
        f"The specified domain {name} does not exist in your account.",
        status=404,
        recommend="Check the domain name, and that the AccessKey belongs to the account that owns it.",
    )


def config_not_found(config_id: str, domain: str) -> ApiError:
    return ApiError(
        "InvalidConfigId.NotFound",
        f"The specified ConfigId {config_id} does not belong to a configuration of domain {domain}.",
        status=404,
    )


def function_not_supported(name: str, supported: list[str]) -> ApiError:
    return ApiError(
        "InvalidFunction.NotSupported",
        f"The function {name!r} is not supported. Supported functions: {', '.join(supported)}.",
    )


def functions_malformed(reason: str) -> ApiError:
    return ApiError("InvalidFunctions.Malformed", f"The specified Functions is invalid: {reason}")


def function_arg_error(function: str, reason: str) -> ApiError:
    return ApiError("FunctionArgError", f"The arguments of function {function} are invalid: {reason}")


def arg_value_malformed(function: str, arg: str, rule: str, *, domain: str = "") -> ApiError:
    where = f" for domain {domain}" if domain else ""
    return ApiError(
        "InvalidArgValue.Malformed",
        f"The specified ArgValue of {arg} in function {function}{where} is invalid: {rule}",
    )


def too_many(rule: str) -> ApiError:
    return ApiError("TooManyDomains", rule)


def validation_messages(exc: ValidationError) -> list[tuple[str | None, str]]:
    """(field or None, message) pairs of a ValidationError, with parameters filled in."""
    if hasattr(exc, "error_dict"):
        return [(field, message) for field, messages in exc.message_dict.items() for message in messages]
    return [(None, message) for message in exc.messages]


def domain_exists(message: str) -> ApiError:
    return ApiError("DomainAlreadyExist", message)


def sources_malformed(reason: str) -> ApiError:
    return ApiError("InvalidSources.Malformed", f"The specified Sources is invalid: {reason}")


def illegal_operation(reason: str) -> ApiError:
    return ApiError("IllegalOperation", f"Illegal domain operate is not permitted: {reason}", status=403)
