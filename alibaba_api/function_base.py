"""What every configuration function of the API shares: the state Describe reads, and the base class that
maps a function onto the back-to-origin services with the API's errors (ALIBABA_API.md).

ConfigIds are stored (`domains.models.ConfiguredFunction`): a function has one from the moment it is
configured, by any entry point, until it is deleted (see `domains.configured` for what "configured" means).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from domains.configured import function_unconfigure
from domains.models import Domain, Origin, OriginFetchSettings, ProtocolPolicy
from origin_fetch.services import DomainValidationError, SettingsChange

DEFAULT_POLICY = ProtocolPolicy.HTTP
DEFAULT_HTTP_PORT = 80
DEFAULT_HTTPS_PORT = 443
MAX_CONFIG_ID_DIGITS = 19


def parse_config_id(value: str) -> int | None:
    """A ConfigId as a number, or None when it is not one."""
    text = value.strip()
    if not text.isdigit() or len(text) > MAX_CONFIG_ID_DIGITS:
        return None
    return int(text)


@dataclass(frozen=True, order=True)
class Configured:
    """A function configured on a domain: its ConfigId, and the origin of a per-origin function."""

    config_id: int
    function: str
    origin_id: int | None = None


@dataclass(frozen=True)
class DomainState:
    """A domain with its back-to-origin settings, origins and configured functions, as read for Describe."""

    domain: Domain
    settings: OriginFetchSettings
    origins: list[Origin]
    configured: list[Configured]


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
        self, domain: Domain, parsed: Any, context: ChangeContext, *, origin_id: int | None = None
    ) -> list[int]:
        """Write the parsed arguments; return the ConfigIds written. Raises ApiError, nothing saved.

        `origin_id` is the origin of the ConfigId an item gave, for per-origin functions.
        """
        return self.apply_many([domain], parsed, context, origin_id=origin_id)[domain.pk]

    def apply_many(
        self, domains: list[Domain], parsed: Any, context: ChangeContext, *, origin_id: int | None = None
    ) -> dict[int, list[int]]:
        """`apply` to several domains: all of them or none. Returns the ConfigIds written per domain id.

        Functions of the domain-wide settings write all the domains in one batch of the service.
        """
        return {domain.pk: self.apply(domain, parsed, context, origin_id=origin_id) for domain in domains}

    def describe(self, state: DomainState, configured: list[Configured]) -> list[Config]:
        """The configurations of this function on the domain: one per configured row."""
        if not configured:
            return []
        return [Config(self.name, configured[0].config_id, self.args(state))]

    def args(self, state: DomainState) -> list[tuple[str, str]]:
        """The arguments of a domain-wide function, from the domain's settings."""
        raise NotImplementedError

    def reset(self, domain: Domain, context: ChangeContext, *, origin_id: int | None = None) -> None:
        """Delete the configuration: its settings back to the defaults, and its ConfigId gone."""
        self.restore_defaults(domain, context)
        function_unconfigure(domain=domain, function=self.name)

    def restore_defaults(self, domain: Domain, context: ChangeContext) -> None:
        raise NotImplementedError

    def switch(self, args: dict[str, str], name: str, *, default: bool | None = None) -> bool:
        value = text_arg(args, name).lower()
        if not value:
            if default is None:
                raise function_arg_error(self.name, f"the argument {name} is required: on or off.")
            return default
        if value not in ("on", "off"):
            raise arg_value_malformed(self.name, name, f"use on or off, not {args[name]!r}.")
        return value == "on"

    def call(self, domain: Domain, write: Callable[[], Any]) -> Any:
        """Run a service write, turning its ValidationError into the vendor error naming the argument."""
        try:
            return write()
        except DomainValidationError as exc:
            raise self.refusal(exc, exc.domain) from None
        except ValidationError as exc:
            raise self.refusal(exc, domain) from None

    def call_many(
        self, domains: list[Domain], write: Callable[[], Sequence[SettingsChange]]
    ) -> dict[int, list[int]]:
        """Run a batch service write; return each domain's ConfigId. The error names the domain refused."""
        changes = self.call(domains[0], write)
        return {domain.pk: [change.config_id] for domain, change in zip(domains, changes, strict=True)}

    def refusal(self, exc: ValidationError, domain: Domain) -> ApiError:
        messages = validation_messages(exc)
        field = messages[0][0]
        arg = self.error_args.get(field) or self.error_args.get(None) or self.arg_names[0]
        return arg_value_malformed(
            self.name, arg, " ".join(message for _, message in messages), domain=domain.name
        )
