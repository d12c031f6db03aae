"""The configuration functions of the API, mapped onto the back-to-origin services (ALIBABA_API.md).

Each parses its `functionArgs`, applies them through `origin_fetch.services` (so the shared validation, the
operation log and delivery all apply), describes the current state as arguments, and resets itself to the
default. ConfigIds (stored by the services) and the base class are in `alibaba_api.function_base`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from accounts.audit import ChangeContext
from alibaba_api.errors import (
    arg_value_malformed,
    function_arg_error,
    function_not_supported,
    functions_malformed,
    missing_parameter,
)
from alibaba_api.function_base import (
    DEFAULT_HTTP_PORT,
    DEFAULT_HTTPS_PORT,
    DEFAULT_POLICY,
    Config,
    Configured,
    DomainState,
    Function,
    on_off,
    parse_config_id,
    text_arg,
)
from domains.models import Domain, Origin, ProtocolPolicy
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import (
    origin_host_update,
    origin_host_update_many,
    origin_protocol_update,
    origin_protocol_update_many,
    origin_sni_update,
    origin_sni_update_many,
    origin_verification_update,
    origin_verification_update_many,
)


@dataclass(frozen=True)
class OriginSniArgs:
    enabled: bool
    name: str


class HttpsOriginSni(Function):
    name = "https_origin_sni"
    arg_names = ("enabled", "https_origin_sni")
    error_args = {"name": "https_origin_sni", "enabled": "enabled", None: "https_origin_sni"}
    batched = True
    reset_order = 10

    def parse(self, args: dict[str, str]) -> OriginSniArgs:
        return OriginSniArgs(enabled=self.switch(args, "enabled"), name=text_arg(args, "https_origin_sni"))

    def apply_many(
        self,
        domains: list[Domain],
        parsed: OriginSniArgs,
        context: ChangeContext,
        *,
        origin_id: int | None = None,
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains,
            lambda: origin_sni_update_many(
                domains=domains, enabled=parsed.enabled, name=parsed.name, context=context
            ),
        )

    def args(self, state: DomainState) -> list[tuple[str, str]]:
        settings = state.settings
        return [("enabled", on_off(settings.sni_enabled)), ("https_origin_sni", settings.sni_name)]

    def restore_defaults(self, domain: Domain, context: ChangeContext) -> None:
        self.call(domain, lambda: origin_sni_update(domain=domain, enabled=False, name="", context=context))


@dataclass(frozen=True)
class ForwardSchemeArgs:
    enabled: bool
    policy: str | None  # None keeps each domain's own
    ports: tuple[int | None, int | None]


class ForwardScheme(Function):
    name = "forward_scheme"
    arg_names = ("enable", "scheme_origin", "scheme_origin_port")
    error_args = {
        "forward_scheme": "scheme_origin",
        "http_port": "scheme_origin_port",
        "https_port": "scheme_origin_port",
        "enabled": "enable",
        None: "scheme_origin",
    }
    batched = True
    reset_order = 20

    def parse(self, args: dict[str, str]) -> ForwardSchemeArgs:
        enabled = self.switch(args, "enable")
        if not enabled:  # no policy: each origin's own port decides; the stored policy is kept for later
            return ForwardSchemeArgs(False, None, (None, None))
        policy = text_arg(args, "scheme_origin").lower()
        if not policy:
            raise function_arg_error(
                self.name, "the argument scheme_origin is required: http, https or follow."
            )
        if policy not in ProtocolPolicy.values:
            raise arg_value_malformed(
                self.name, "scheme_origin", f"use http, https or follow, not {args['scheme_origin']!r}."
            )
        return ForwardSchemeArgs(True, policy, self._ports(policy, text_arg(args, "scheme_origin_port")))

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
        origin_id: int | None = None,
    ) -> dict[int, list[int]]:
        # A port left out keeps each domain's own (read under the lock, by the service).
        return self.call_many(
            domains,
            lambda: origin_protocol_update_many(
                domains=domains,
                enabled=parsed.enabled,
                policy=parsed.policy,
                http_port=parsed.ports[0],
                https_port=parsed.ports[1],
                context=context,
            ),
        )

    def args(self, state: DomainState) -> list[tuple[str, str]]:
        s = state.settings
        if s.forward_scheme == ProtocolPolicy.FOLLOW:
            port = f"{s.http_port}:{s.https_port}"
        else:
            port = str(s.https_port if s.forward_scheme == ProtocolPolicy.HTTPS else s.http_port)
        return [
            ("enable", on_off(s.forward_scheme_enabled)),
            ("scheme_origin", s.forward_scheme),
            ("scheme_origin_port", port),
        ]

    def restore_defaults(self, domain: Domain, context: ChangeContext) -> None:
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
    arg_names = ("domain_name",)
    error_args = {"origin_host": "domain_name", None: "domain_name"}
    batched = True

    def parse(self, args: dict[str, str]) -> str:
        host = text_arg(args, "domain_name")
        if not host:
            raise function_arg_error(
                self.name, "the argument domain_name (the origin Host header) is required."
            )
        return host

    def apply_many(
        self, domains: list[Domain], parsed: str, context: ChangeContext, *, origin_id: int | None = None
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains, lambda: origin_host_update_many(domains=domains, host=parsed, context=context)
        )

    def args(self, state: DomainState) -> list[tuple[str, str]]:
        return [("domain_name", state.settings.origin_host or state.domain.name)]

    def restore_defaults(self, domain: Domain, context: ChangeContext) -> None:
        self.call(domain, lambda: origin_host_update(domain=domain, host="", context=context))


@dataclass(frozen=True)
class VerificationArgs:
    enabled: bool
    common_names: str


class OriginCertificateVerification(Function):
    name = "origin_certificate_verification"
    arg_names = ("enabled", "common_name_whitelist")
    error_args = {"common_names": "common_name_whitelist", None: "common_name_whitelist"}
    batched = True

    def parse(self, args: dict[str, str]) -> VerificationArgs:
        return VerificationArgs(self.switch(args, "enabled"), text_arg(args, "common_name_whitelist"))

    def apply_many(
        self,
        domains: list[Domain],
        parsed: VerificationArgs,
        context: ChangeContext,
        *,
        origin_id: int | None = None,
    ) -> dict[int, list[int]]:
        return self.call_many(
            domains,
            lambda: origin_verification_update_many(
                domains=domains, enabled=parsed.enabled, common_names=parsed.common_names, context=context
            ),
        )

    def args(self, state: DomainState) -> list[tuple[str, str]]:
        s = state.settings
        return [("enabled", on_off(s.verify_origin_cert)), ("common_name_whitelist", "")]  # none accepted

    def restore_defaults(self, domain: Domain, context: ChangeContext) -> None:
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
    arg_names = ("origin", "sni_host", "keepalive_sni")
    error_args = {None: "sni_host"}
    per_origin = True

    def parse(self, args: dict[str, str]) -> PerOriginSniArgs:
        sni_host = text_arg(args, "sni_host")
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
        return PerOriginSniArgs(origin=text_arg(args, "origin").lower().rstrip("."), sni_host=sni_host)

    def targets(self, domain: Domain, origin: str, origin_id: int | None) -> list[Origin]:
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
        chosen = [o for o in origins if origin_id is not None and o.pk == origin_id]
        if chosen:
            return chosen
        raise function_arg_error(self.name, "the argument origin is required: an origin address, or all.")

    def apply(
        self,
        domain: Domain,
        parsed: PerOriginSniArgs,
        context: ChangeContext,
        *,
        origin_id: int | None = None,
    ) -> list[int]:
        ids = []
        for origin in self.targets(domain, parsed.origin, origin_id):
            change = self.call(
                domain,
                lambda o=origin: origin_sni_host_update(origin=o, sni_host=parsed.sni_host, context=context),
            )
            ids.append(change.config_id)
        return ids

    def describe(self, state: DomainState, configured: list[Configured]) -> list[Config]:
        origins = {origin.pk: origin for origin in state.origins}
        return [
            Config(
                self.name,
                row.config_id,
                [("origin", origin.address), ("sni_host", origin.sni_host), ("keepalive_sni", "on")],
            )
            for row in configured
            if (origin := origins.get(row.origin_id)) is not None  # type: ignore[arg-type]
        ]

    def reset(self, domain: Domain, context: ChangeContext, *, origin_id: int | None = None) -> None:
        for origin in domain.origins.exclude(sni_host="").order_by("priority", "id"):
            if origin_id is None or origin.pk == origin_id:
                # Clearing an origin's SNI deletes its configuration too (`domains.configured`).
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
    # The `configId` the item gave, if any: it names the configuration (and, per origin, the origin) to set.
    config_id: int | None


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
        config_id = None
        raw_id = item.get("configId", item.get("configid"))
        if raw_id not in (None, ""):
            config_id = parse_config_id(str(raw_id))
            if config_id is None:
                raise functions_malformed(f"item {index}: configId {raw_id!r} is not a ConfigId (a number).")
        calls.append(FunctionCall(function, function.parse(args), config_id))
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
