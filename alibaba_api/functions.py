"""The configuration functions of the API, mapped onto the back-to-origin services (ALIBABA_API.md).

Each function parses its `functionArgs`, applies them through `origin_fetch.services` (so the shared
validation, the operation log and delivery all apply), describes the current state as arguments, and resets
itself to the default. ConfigIds are derived from the domain (and the origin, for `origin_sni`), so they are
stable without being stored: `(domain id << 28) | (origin tag << 4) | function code`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError

from accounts.audit import ChangeContext
from alibaba_api.errors import (
    ApiError,
    arg_value_malformed,
    function_arg_error,
    function_not_supported,
    functions_malformed,
    missing_parameter,
    validation_messages,
)
from domains.models import Domain, Origin, OriginFetchSettings, ProtocolPolicy
from origin_fetch.services import (
    DomainValidationError,
    origin_host_update,
    origin_host_update_many,
    origin_protocol_update,
    origin_protocol_update_many,
    origin_sni_host_update,
    origin_sni_update,
    origin_sni_update_many,
    origin_verification_update,
    origin_verification_update_many,
)

_CODE_BITS = 4
_TAG_BITS = 24
_DOMAIN_SHIFT = _CODE_BITS + _TAG_BITS
_TAG_MASK = (1 << _TAG_BITS) - 1
_CODE_MASK = (1 << _CODE_BITS) - 1

DEFAULT_POLICY = ProtocolPolicy.HTTP
DEFAULT_HTTP_PORT = 80
DEFAULT_HTTPS_PORT = 443


def origin_tag(origin: Origin) -> int:
    """A 24-bit tag of an origin's address and port: the same origin keeps it across re-creation."""
    return zlib.crc32(f"{origin.address.lower()}:{origin.port}".encode()) & _TAG_MASK


def make_config_id(domain_pk: int, code: int, tag: int = 0) -> int:
    return (domain_pk << _DOMAIN_SHIFT) | (tag << _CODE_BITS) | code


@dataclass(frozen=True)
class ConfigRef:
    """What a ConfigId designates: a domain, a function code and, for per-origin functions, an origin tag."""

    domain_pk: int
    code: int
    tag: int


def parse_config_id(value: str) -> ConfigRef | None:
    text = value.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return ConfigRef(number >> _DOMAIN_SHIFT, number & _CODE_MASK, (number >> _CODE_BITS) & _TAG_MASK)


@dataclass(frozen=True)
class DomainState:
    """A domain with its back-to-origin settings and origins, as read for Describe."""

    domain: Domain
    settings: OriginFetchSettings
    origins: list[Origin]


@dataclass(frozen=True)
class Config:
    """One configuration of a domain as Describe shows it."""

    function: str
    config_id: int
    args: list[tuple[str, str]]


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _text(args: dict[str, str], name: str) -> str:
    return (args.get(name) or "").strip()


class Function:
    """One configurable function; subclasses define the arguments and the service calls."""

    name: ClassVar[str]
    code: ClassVar[int]
    arg_names: ClassVar[tuple[str, ...]]
    # Service error fields -> the argument the message is about; None is for field-less errors.
    error_args: ClassVar[dict[str | None, str]]
    per_origin: ClassVar[bool] = False
    # `apply_many` writes all the domains in one transaction of the service (else: one call per domain).
    batched: ClassVar[bool] = False
    # Resets run in this order, so that turning Origin SNI off comes before a protocol change it would block.
    reset_order: ClassVar[int] = 50

    def parse(self, args: dict[str, str]) -> Any:
        raise NotImplementedError

    def apply(
        self, domain: Domain, parsed: Any, context: ChangeContext, *, tag: int | None = None
    ) -> list[int]:
        """Write the parsed arguments; return the ConfigIds written. Raises ApiError, nothing saved."""
        return self.apply_many([domain], parsed, context, tag=tag)[domain.pk]

    def apply_many(
        self, domains: list[Domain], parsed: Any, context: ChangeContext, *, tag: int | None = None
    ) -> dict[int, list[int]]:
        """`apply` to several domains: all of them or none. Returns the ConfigIds written per domain id.

        Functions of the domain-wide settings write all the domains in one batch of the service.
        """
        return {domain.pk: self.apply(domain, parsed, context, tag=tag) for domain in domains}

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        raise NotImplementedError

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        raise NotImplementedError

    def config_id(self, domain: Domain, origin: Origin | None = None) -> int:
        return make_config_id(domain.pk, self.code, origin_tag(origin) if origin is not None else 0)

    def switch(self, args: dict[str, str], name: str, *, default: bool | None = None) -> bool:
        value = _text(args, name).lower()
        if not value:
            if default is None:
                raise function_arg_error(self.name, f"the argument {name} is required: on or off.")
            return default
        if value not in ("on", "off"):
            raise arg_value_malformed(self.name, name, f"use on or off, not {args[name]!r}.")
        return value == "on"

    def call(self, domain: Domain, write: Callable[[], object]) -> None:
        """Run a service write, turning its ValidationError into the vendor error naming the argument."""
        try:
            write()
        except DomainValidationError as exc:
            raise self.refusal(exc, exc.domain) from None
        except ValidationError as exc:
            raise self.refusal(exc, domain) from None

    def call_many(self, domains: list[Domain], write: Callable[[], object]) -> dict[int, list[int]]:
        """Run a batch service write; return each domain's ConfigId. The error names the domain refused."""
        self.call(domains[0], write)
        return {domain.pk: [self.config_id(domain)] for domain in domains}

    def refusal(self, exc: ValidationError, domain: Domain) -> ApiError:
        messages = validation_messages(exc)
        field = messages[0][0]
        arg = self.error_args.get(field) or self.error_args.get(None) or self.arg_names[0]
        return arg_value_malformed(
            self.name, arg, " ".join(message for _, message in messages), domain=domain.name
        )


@dataclass(frozen=True)
class OriginSniArgs:
    enabled: bool
    name: str


class HttpsOriginSni(Function):
    name = "https_origin_sni"
    code = 1
    arg_names = ("enabled", "https_origin_sni")
    error_args = {"name": "https_origin_sni", "enabled": "enabled", None: "https_origin_sni"}
    batched = True
    reset_order = 10

    def parse(self, args: dict[str, str]) -> OriginSniArgs:
        return OriginSniArgs(enabled=self.switch(args, "enabled"), name=_text(args, "https_origin_sni"))

    def apply_many(
        self, domains: list[Domain], parsed: OriginSniArgs, context: ChangeContext, *, tag: int | None = None
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains,
            lambda: origin_sni_update_many(
                domains=domains, enabled=parsed.enabled, name=parsed.name, context=context
            ),
        )

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        settings = state.settings
        if not (settings.sni_enabled or include_default):
            return []
        args = [("enabled", _on_off(settings.sni_enabled)), ("https_origin_sni", settings.sni_name)]
        return [Config(self.name, self.config_id(state.domain), args)]

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        self.call(domain, lambda: origin_sni_update(domain=domain, enabled=False, name="", context=context))


@dataclass(frozen=True)
class ForwardSchemeArgs:
    enabled: bool
    policy: str
    ports: tuple[int | None, int | None]


class ForwardScheme(Function):
    name = "forward_scheme"
    code = 2
    arg_names = ("enable", "scheme_origin", "scheme_origin_port")
    error_args = {
        "forward_scheme": "scheme_origin",
        "http_port": "scheme_origin_port",
        "https_port": "scheme_origin_port",
        None: "scheme_origin",
    }
    batched = True
    reset_order = 20

    def parse(self, args: dict[str, str]) -> ForwardSchemeArgs:
        enabled = self.switch(args, "enable")
        if not enabled:
            return ForwardSchemeArgs(False, DEFAULT_POLICY, (DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT))
        policy = _text(args, "scheme_origin").lower()
        if not policy:
            raise function_arg_error(
                self.name, "the argument scheme_origin is required: http, https or follow."
            )
        if policy not in ProtocolPolicy.values:
            raise arg_value_malformed(
                self.name, "scheme_origin", f"use http, https or follow, not {args['scheme_origin']!r}."
            )
        return ForwardSchemeArgs(True, policy, self._ports(policy, _text(args, "scheme_origin_port")))

    def _ports(self, policy: str, raw: str) -> tuple[int | None, int | None]:
        if not raw:
            return (
                (DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT) if policy == ProtocolPolicy.FOLLOW else (None, None)
            )
        parts = raw.split(":")
        expected = 2 if policy == ProtocolPolicy.FOLLOW else 1
        if len(parts) != expected or not all(part.strip().isdigit() for part in parts):
            rule = (
                "with follow, give the HTTP and HTTPS ports as HTTP:HTTPS, such as 80:443."
                if policy == ProtocolPolicy.FOLLOW
                else f"with {policy}, give one port number, such as {80 if policy == 'http' else 443}."
            )
            raise arg_value_malformed(self.name, "scheme_origin_port", rule)
        numbers = [int(part) for part in parts]
        if policy == ProtocolPolicy.FOLLOW:
            return numbers[0], numbers[1]
        return (numbers[0], None) if policy == ProtocolPolicy.HTTP else (None, numbers[0])

    def apply_many(
        self,
        domains: list[Domain],
        parsed: ForwardSchemeArgs,
        context: ChangeContext,
        *,
        tag: int | None = None,
    ) -> dict[int, list[int]]:
        # A port left out keeps each domain's own (read under the lock, by the service).
        return self.call_many(
            domains,
            lambda: origin_protocol_update_many(
                domains=domains,
                policy=parsed.policy,
                http_port=parsed.ports[0],
                https_port=parsed.ports[1],
                context=context,
            ),
        )

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        s = state.settings
        configured = (s.forward_scheme, s.http_port, s.https_port) != (
            DEFAULT_POLICY,
            DEFAULT_HTTP_PORT,
            DEFAULT_HTTPS_PORT,
        )
        if not (configured or include_default):
            return []
        if s.forward_scheme == ProtocolPolicy.FOLLOW:
            port = f"{s.http_port}:{s.https_port}"
        else:
            port = str(s.https_port if s.forward_scheme == ProtocolPolicy.HTTPS else s.http_port)
        args = [
            ("enable", _on_off(configured)),
            ("scheme_origin", s.forward_scheme),
            ("scheme_origin_port", port),
        ]
        return [Config(self.name, self.config_id(state.domain), args)]

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        self.call(
            domain,
            lambda: origin_protocol_update(
                domain=domain,
                policy=DEFAULT_POLICY,
                http_port=DEFAULT_HTTP_PORT,
                https_port=DEFAULT_HTTPS_PORT,
                context=context,
            ),
        )


class SetReqHostHeader(Function):
    name = "set_req_host_header"
    code = 3
    arg_names = ("domain_name",)
    error_args = {"origin_host": "domain_name", None: "domain_name"}
    batched = True

    def parse(self, args: dict[str, str]) -> str:
        host = _text(args, "domain_name")
        if not host:
            raise function_arg_error(
                self.name, "the argument domain_name (the origin Host header) is required."
            )
        return host

    def apply_many(
        self, domains: list[Domain], parsed: str, context: ChangeContext, *, tag: int | None = None
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains, lambda: origin_host_update_many(domains=domains, host=parsed, context=context)
        )

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        host = state.settings.origin_host
        if not (host or include_default):
            return []
        return [Config(self.name, self.config_id(state.domain), [("domain_name", host or state.domain.name)])]

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        self.call(domain, lambda: origin_host_update(domain=domain, host="", context=context))


@dataclass(frozen=True)
class VerificationArgs:
    enabled: bool
    common_names: str


class OriginCertificateVerification(Function):
    name = "origin_certificate_verification"
    code = 4
    arg_names = ("enabled", "common_name_whitelist")
    error_args = {"common_names": "common_name_whitelist", None: "common_name_whitelist"}
    batched = True

    def parse(self, args: dict[str, str]) -> VerificationArgs:
        return VerificationArgs(self.switch(args, "enabled"), _text(args, "common_name_whitelist"))

    def apply_many(
        self,
        domains: list[Domain],
        parsed: VerificationArgs,
        context: ChangeContext,
        *,
        tag: int | None = None,
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains,
            lambda: origin_verification_update_many(
                domains=domains, enabled=parsed.enabled, common_names=parsed.common_names, context=context
            ),
        )

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        s = state.settings
        if not (s.verify_origin_cert or s.verify_common_names or include_default):
            return []
        args = [
            ("enabled", _on_off(s.verify_origin_cert)),
            ("common_name_whitelist", ",".join(s.verify_common_names)),
        ]
        return [Config(self.name, self.config_id(state.domain), args)]

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        self.call(
            domain,
            lambda: origin_verification_update(
                domain=domain, enabled=False, common_names=[], context=context
            ),
        )


@dataclass(frozen=True)
class PerOriginSniArgs:
    origin: str
    sni_host: str


class PerOriginSni(Function):
    name = "origin_sni"
    code = 5
    arg_names = ("origin", "sni_host", "keepalive_sni")
    error_args = {None: "sni_host"}
    per_origin = True

    def parse(self, args: dict[str, str]) -> PerOriginSniArgs:
        sni_host = _text(args, "sni_host")
        if not sni_host:
            raise function_arg_error(
                self.name,
                "the argument sni_host is required: a domain name, ali_follow_origin or ali_follow_host.",
            )
        if not self.switch(args, "keepalive_sni", default=True):
            raise arg_value_malformed(
                self.name,
                "keepalive_sni",
                "only on is supported: edge nodes keep one connection pool per origin and SNI, "
                "so a reused connection always carries its SNI.",
            )
        return PerOriginSniArgs(origin=_text(args, "origin").lower().rstrip("."), sni_host=sni_host)

    def targets(self, domain: Domain, origin: str, tag: int | None) -> list[Origin]:
        origins = list(domain.origins.order_by("priority", "id"))
        if origin == "all":
            return origins
        if origin:
            chosen = [o for o in origins if o.address.lower().rstrip(".") == origin]
            if not chosen:
                addresses = ", ".join(o.address for o in origins)
                raise arg_value_malformed(
                    self.name,
                    "origin",
                    f"the domain has no origin {origin}; use one of its origins ({addresses}) or all.",
                    domain=domain.name,
                )
            return chosen
        if tag is not None:
            chosen = [o for o in origins if origin_tag(o) == tag]
            if chosen:
                return chosen[:1]
        raise function_arg_error(self.name, "the argument origin is required: an origin address, or all.")

    def apply(
        self, domain: Domain, parsed: PerOriginSniArgs, context: ChangeContext, *, tag: int | None = None
    ) -> list[int]:
        ids = []
        for origin in self.targets(domain, parsed.origin, tag):
            self.call(
                domain,
                lambda o=origin: origin_sni_host_update(origin=o, sni_host=parsed.sni_host, context=context),
            )
            ids.append(self.config_id(domain, origin))
        return ids

    def describe(self, state: DomainState, *, include_default: bool) -> list[Config]:
        return [
            Config(
                self.name,
                self.config_id(state.domain, origin),
                [("origin", origin.address), ("sni_host", origin.sni_host), ("keepalive_sni", "on")],
            )
            for origin in state.origins
            if origin.sni_host
        ]

    def reset(self, domain: Domain, context: ChangeContext, *, tag: int | None = None) -> None:
        for origin in domain.origins.exclude(sni_host="").order_by("priority", "id"):
            if tag is None or origin_tag(origin) == tag:
                self.call(
                    domain, lambda o=origin: origin_sni_host_update(origin=o, sni_host="", context=context)
                )


FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (
        HttpsOriginSni(),
        PerOriginSni(),
        ForwardScheme(),
        SetReqHostHeader(),
        OriginCertificateVerification(),
    )
}
FUNCTIONS_BY_CODE: dict[int, Function] = {function.code: function for function in FUNCTIONS.values()}


def function_named(name: str) -> Function:
    function = FUNCTIONS.get(name.strip())
    if function is None:
        raise function_not_supported(name, sorted(FUNCTIONS))
    return function


@dataclass(frozen=True)
class FunctionCall:
    """One parsed entry of `Functions`."""

    function: Function
    parsed: Any
    config_tag: int | None


def parse_functions(raw: str | None) -> list[FunctionCall]:
    """Parse and check the `Functions` JSON of BatchSet; raise the vendor error for the first problem."""
    if raw is None or not raw.strip():
        raise missing_parameter("Functions")
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise functions_malformed(f"it is not valid JSON ({exc}).") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise functions_malformed(
            "it must be a non-empty JSON array of {functionName, functionArgs} objects."
        )
    calls = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise functions_malformed(f"item {index} is not an object.")
        name = item.get("functionName")
        if not isinstance(name, str) or not name.strip():
            raise functions_malformed(f"item {index} has no functionName.")
        function = function_named(name)
        args = _function_args(function, item.get("functionArgs"), index)
        _check_parent_id(item.get("parentId", item.get("parentid")), index)
        tag = None
        config_id = item.get("configId", item.get("configid"))
        if config_id not in (None, ""):
            ref = parse_config_id(str(config_id))
            if ref is None or ref.code != function.code:
                raise functions_malformed(
                    f"item {index}: configId {config_id} is not a ConfigId of {function.name}."
                )
            tag = ref.tag
        calls.append(FunctionCall(function, function.parse(args), tag))
    return calls


def _function_args(function: Function, raw: object, index: int) -> dict[str, str]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise functions_malformed(f"item {index}: functionArgs must be an array of {{argName, argValue}}.")
    args: dict[str, str] = {}
    for arg in raw:
        if not isinstance(arg, dict) or not isinstance(arg.get("argName"), str):
            raise functions_malformed(
                f"item {index}: each functionArgs entry needs an argName and an argValue."
            )
        name, value = arg["argName"].strip(), arg.get("argValue", "")
        if name not in function.arg_names:
            raise function_arg_error(
                function.name, f"the argument {name!r} is not supported; use {', '.join(function.arg_names)}."
            )
        if name in args:
            raise function_arg_error(function.name, f"the argument {name} is given more than once.")
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            raise arg_value_malformed(function.name, name, "argValue must be a string.")
        args[name] = "" if value is None else str(value)
    return args


def _check_parent_id(value: object, index: int) -> None:
    if value in (None, "", 0, "0", -1, "-1"):
        return
    raise functions_malformed(
        f"item {index}: parentId {value} refers to a rule condition, which is not supported."
    )
