"""What every configuration function of the API shares: ConfigIds, the state Describe reads, and the base
class that maps a function onto the back-to-origin services with the API's errors (ALIBABA_API.md).

ConfigIds are derived from the domain (and the origin, for `origin_sni`), so they are stable without being
stored: `(domain id << 28) | (origin tag << 4) | function code`.
"""

from __future__ import annotations

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
    validation_messages,
)
from domains.models import Domain, Origin, OriginFetchSettings, ProtocolPolicy
from origin_fetch.services import (
    DomainValidationError,
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


def on_off(value: bool) -> str:
    return "on" if value else "off"


def text_arg(args: dict[str, str], name: str) -> str:
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
        value = text_arg(args, name).lower()
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
