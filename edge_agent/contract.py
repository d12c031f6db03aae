"""The wire contract: the one definition of the document the console publishes and an edge agent applies.

`parse(data)` turns a decoded JSON object into a `DomainDocument` or a `Tombstone`, checking every field and
every value the edge must be able to take; anything else raises `ContractError`, whose message names the
field and the rule (never a value of another domain, nor anything of the edge), so the console can show it to
the domain's owner. `as_dict()` is the wire form (what `parse` reads back).

Names are what the console's validators produce: lower-case ASCII letters, digits and hyphens, labels of 1-63
characters, at least two labels, a top-level label that is not all digits, at most 253 characters. The
accelerated domain alone may start with `*.`; an SNI is a plain name (never a wildcard, never an IP literal).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
POLICIES = ("follow", "http", "https")
ORIGIN_TYPES = ("ipaddr", "domain", "oss")
SNI_SOURCES = ("origin", "origin_address", "origin_host", "domain", "oss", "none")
WILDCARD_PREFIX = "*."
MAX_NAME = 253
MAX_ORIGINS = 100
MAX_COMMON_NAMES = 20
MAX_PRODUCT = 32
PRIORITY_RANGE = (0, 1000)
WEIGHT_RANGE = (1, 100)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class ContractError(ValueError):
    """A document breaks the contract: `field` says where (`origins[0].address`), `rule` what it must be."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


# Values ---------------------------------------------------------------------------------------------------


def is_host_name(value: object) -> bool:
    """A plain host name (no wildcard, no IP literal, no trailing dot)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        return False
    labels = value.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def is_wildcard_name(value: object) -> bool:
    """`*.` followed by a host name."""
    return (
        isinstance(value, str)
        and value.startswith(WILDCARD_PREFIX)
        and len(value) <= MAX_NAME
        and is_host_name(value[len(WILDCARD_PREFIX) :])
    )


def ip_address(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `value` spells in its canonical form (IPv6 without brackets nor zone id), or None."""
    if not isinstance(value, str) or "%" in value or "[" in value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address if str(address) == value else None


NAME_SYNTAX = "lower-case letters, digits and hyphens; at least two labels"
ADDRESS_RULE = "must be an IPv4 address, an IPv6 address (without a zone id), or a host name"


def _need(condition: object, where: str, rule: str) -> None:
    if not condition:
        raise ContractError(where, rule)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(value: object, bounds: tuple[int, int], where: str) -> int:
    low, high = bounds
    _need(_int(value) and low <= value <= high, where, f"must be an integer from {low} to {high}")  # type: ignore[operator]
    return value  # type: ignore[return-value]


def _port(value: object, where: str) -> int:
    return _in_range(value, (1, 65535), where)


def _bool(value: object, where: str) -> bool:
    _need(isinstance(value, bool), where, "must be true or false")
    return value  # type: ignore[return-value]


def _object(value: object, where: str) -> Mapping[str, Any]:
    _need(isinstance(value, Mapping), where, "must be an object")
    return value  # type: ignore[return-value]


def _list(value: object, where: str, limit: int) -> Sequence[Any]:
    _need(isinstance(value, list), where, "must be a list")
    _need(len(value) <= limit, where, f"must hold at most {limit} items")  # type: ignore[arg-type]
    return value  # type: ignore[return-value]


# The document ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """One origin; `sni` is the name sent in the TLS handshake to it (None: no SNI)."""

    type: str
    address: str
    port: int
    priority: int
    weight: int
    sni: str | None
    sni_source: str = "none"

    @property
    def is_ip(self) -> bool:
        return ip_address(self.address) is not None

    @classmethod
    def from_dict(cls, data: object, where: str) -> Origin:
        data = _object(data, where)
        kind = data.get("type")
        _need(kind in ORIGIN_TYPES, f"{where}.type", "must be ipaddr, domain or oss")
        address = data.get("address")
        if kind == "ipaddr":
            _need(
                ip_address(address), f"{where}.address", "must be an IPv4 or IPv6 address (without a zone id)"
            )
        else:
            _need(is_host_name(address) or ip_address(address), f"{where}.address", ADDRESS_RULE)
        sni = data.get("sni")
        _need(
            sni is None or is_host_name(sni),
            f"{where}.sni",
            f"must be null or a host name, never a wildcard nor an IP address ({NAME_SYNTAX})",
        )
        source = data.get("sni_source", "none")
        _need(source in SNI_SOURCES, f"{where}.sni_source", "must be one of " + ", ".join(SNI_SOURCES))
        return cls(
            type=kind,
            address=address,
            port=_port(data.get("port"), f"{where}.port"),
            priority=_in_range(data.get("priority"), PRIORITY_RANGE, f"{where}.priority"),
            weight=_in_range(data.get("weight"), WEIGHT_RANGE, f"{where}.weight"),
            sni=sni,
            sni_source=source,
        )


@dataclass(frozen=True)
class ForwardScheme:
    """The origin protocol policy. `enabled` false means no policy: each origin's own port decides."""

    policy: str
    http_port: int
    https_port: int
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: object, where: str) -> ForwardScheme:
        data = _object(data, where)
        policy = data.get("policy")
        _need(policy in POLICIES, f"{where}.policy", "must be follow, http or https")
        return cls(
            policy=policy,
            http_port=_port(data.get("http_port"), f"{where}.http_port"),
            https_port=_port(data.get("https_port"), f"{where}.https_port"),
            enabled=_bool(data.get("enabled", True), f"{where}.enabled"),
        )

    def fetch(self, origin_port: int) -> tuple[str, int]:
        """The scheme and port to fetch from an origin listening on `origin_port`.

        The vendor's rule: with the origin protocol policy on, the policy's port for its scheme is used and
        the origin's own port is ignored; with it off, the origin's port is used, over HTTPS when it is 443
        and over HTTP otherwise. `follow` follows the client, whose listener here is plain HTTP.
        """
        if not self.enabled:
            return ("https" if origin_port == 443 else "http"), origin_port
        if self.policy == "https":
            return "https", self.https_port
        return "http", self.http_port


@dataclass(frozen=True)
class OriginSni:
    enabled: bool
    name: str

    @classmethod
    def from_dict(cls, data: object, where: str) -> OriginSni:
        data = _object(data, where)
        enabled = _bool(data.get("enabled"), f"{where}.enabled")
        name = data.get("name")
        _need(isinstance(name, str), f"{where}.name", "must be a string")
        _need(name or not enabled, f"{where}.name", "is required when Origin SNI is on")
        _need(
            not name or is_host_name(name),
            f"{where}.name",
            f"must be a host name, never a wildcard nor an IP address ({NAME_SYNTAX})",
        )
        return cls(enabled=enabled, name=name)


@dataclass(frozen=True)
class VerifyOrigin:
    """Origin certificate verification; `common_names` are names accepted besides the SNI."""

    enabled: bool
    common_names: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: object, where: str) -> VerifyOrigin:
        data = _object(data, where)
        names = _list(data.get("common_names", []), f"{where}.common_names", MAX_COMMON_NAMES)
        for n, name in enumerate(names):
            _need(
                is_host_name(name) or is_wildcard_name(name),
                f"{where}.common_names[{n}]",
                f"must be a host name or a wildcard such as *.example.com ({NAME_SYNTAX})",
            )
        return cls(enabled=_bool(data.get("enabled"), f"{where}.enabled"), common_names=tuple(names))

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "common_names": list(self.common_names)}


def _domain(data: Mapping[str, Any]) -> str:
    name = data.get("domain")
    _need(
        is_host_name(name) or is_wildcard_name(name),
        "domain",
        f"must be a host name, or *. followed by one ({NAME_SYNTAX})",
    )
    return name  # type: ignore[return-value]


def _revision(data: Mapping[str, Any]) -> int:
    _need(
        _int(data.get("revision")) and data["revision"] >= 1, "revision", "must be an integer of at least 1"
    )
    return data["revision"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DomainDocument:
    """Everything an edge needs to serve one accelerated domain."""

    domain: str
    revision: int
    product: str
    enabled: bool
    origins: tuple[Origin, ...]
    forward_scheme: ForwardScheme
    origin_host: str
    origin_sni: OriginSni
    verify_origin: VerifyOrigin
    schema: int = SCHEMA_VERSION
    deleted = False

    @property
    def is_wildcard(self) -> bool:
        return self.domain.startswith(WILDCARD_PREFIX)

    def as_dict(self) -> dict[str, Any]:
        scheme = self.forward_scheme
        forward: dict[str, Any] = {
            "policy": scheme.policy,
            "http_port": scheme.http_port,
            "https_port": scheme.https_port,
        }
        if not scheme.enabled:
            forward["enabled"] = False
        return {
            "schema": self.schema,
            "domain": self.domain,
            "revision": self.revision,
            "product": self.product,
            "enabled": self.enabled,
            "origins": [
                {
                    "type": o.type,
                    "address": o.address,
                    "port": o.port,
                    "priority": o.priority,
                    "weight": o.weight,
                    "sni": o.sni,
                    "sni_source": o.sni_source,
                }
                for o in self.origins
            ],
            "forward_scheme": forward,
            "origin_host": self.origin_host,
            "origin_sni": {"enabled": self.origin_sni.enabled, "name": self.origin_sni.name},
            "verify_origin": self.verify_origin.as_dict(),
        }


@dataclass(frozen=True)
class Tombstone:
    """A deleted domain: the edge drops it, and no older revision can bring it back."""

    domain: str
    revision: int
    schema: int = SCHEMA_VERSION
    deleted: bool = field(default=True, init=False)

    def as_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "domain": self.domain, "revision": self.revision, "deleted": True}


Document = DomainDocument | Tombstone


def identify(data: object) -> tuple[str, int]:
    """The domain and revision of a document, checked: what a push answer needs to name its result."""
    data = _object(data, "document")
    return _domain(data), _revision(data)


def parse(data: object) -> Document:
    """Check a decoded document and return it typed; ContractError names the first field breaking a rule."""
    data = _object(data, "document")
    domain, revision = _domain(data), _revision(data)
    deleted = data.get("deleted", False)
    _bool(deleted, "deleted")
    _need(data.get("schema", SCHEMA_VERSION) == SCHEMA_VERSION, "schema", f"must be {SCHEMA_VERSION}")
    if deleted:
        return Tombstone(domain=domain, revision=revision)
    product = data.get("product")
    _need(isinstance(product, str) and 0 < len(product) <= MAX_PRODUCT, "product", "must be a non-empty name")
    origins = tuple(
        Origin.from_dict(item, f"origins[{n}]")
        for n, item in enumerate(_list(data.get("origins"), "origins", MAX_ORIGINS))
    )
    origin_host = data.get("origin_host")
    _need(
        origin_host == "" or is_host_name(origin_host) or is_wildcard_name(origin_host),
        "origin_host",
        f"must be empty (the client's host) or a host name ({NAME_SYNTAX})",
    )
    return DomainDocument(
        domain=domain,
        revision=revision,
        product=product,  # type: ignore[arg-type]
        enabled=_bool(data.get("enabled"), "enabled"),
        origins=origins,
        forward_scheme=ForwardScheme.from_dict(data.get("forward_scheme"), "forward_scheme"),
        origin_host=origin_host,  # type: ignore[arg-type]
        origin_sni=OriginSni.from_dict(data.get("origin_sni"), "origin_sni"),
        verify_origin=VerifyOrigin.from_dict(data.get("verify_origin"), "verify_origin"),
    )


from_dict = parse
