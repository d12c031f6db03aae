"""What nginx's Lua reads for one domain: the contract's document compiled into a small routing record.

The record names, per origin, the peer (`address:port`, IPv6 in brackets, a host name resolved by nginx at
request time), the SNI, and the named location of its kind of fetch: plain HTTP, HTTPS, or HTTPS with the
certificate verified (one TLS context per kind for the whole node, not one per domain). Origins are grouped
by priority level, lowest first; the next level is tried only when every origin of a level failed.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass

from edge_agent.addresses import Policy
from edge_agent.contract import ContractError, DomainDocument, Origin, ip_address

HTTP, HTTPS, HTTPS_VERIFY = "@edge_http", "@edge_https", "@edge_https_verify"


@dataclass(frozen=True)
class Listener:
    """An address:port of this node that no origin may point at (the agent's, the edge's own)."""

    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> Listener:
        host, _, port = value.rpartition(":")
        return cls(host.strip("[]") or "0.0.0.0", int(port))  # noqa: S104 - "PORT" alone listens everywhere

    def covers(self, address: str, port: int) -> bool:
        if port != self.port:
            return False
        origin = ip_address(address)
        if origin is None:
            return False
        try:
            own = ipaddress.ip_address(self.host)
        except ValueError:
            return False
        if own.is_unspecified:
            return origin.is_loopback or origin.is_unspecified
        return origin == own or (own.is_loopback and origin.is_loopback)


def refused_rule(kind: str) -> str:
    """The rule an origin address of a refused `kind` breaks, as a push's answer says it."""
    if kind == "own":
        return "must not point at the edge nodes' own addresses"
    return f"must be a public address, not a {kind} one (this edge node does not fetch from it)"


def _peer(origin: Origin, port: int) -> str:
    address = ip_address(origin.address)
    host = f"[{address}]" if address is not None and address.version == 6 else origin.address
    return f"{host}:{port}"


def compile_record(
    doc: DomainDocument,
    *,
    own: Iterable[Listener] = (),
    verify_ready: bool = True,
    policy: Policy | None = None,
) -> str:
    """The JSON record of `doc`; ContractError (naming only this domain's fields) if this node cannot serve
    it. With `policy`, an origin address in a refused range is refused (names are checked where they are
    resolved: `edge_agent.server` when a push arrives, nginx's Lua at request time)."""
    own = tuple(own)
    levels: dict[int, list[dict[str, object]]] = {}
    for n, origin in enumerate(doc.origins):
        scheme, port = doc.forward_scheme.fetch(origin.port)
        if any(listener.covers(origin.address, port) for listener in own):
            raise ContractError(f"origins[{n}].address", "must not point at the edge node's own services")
        address = ip_address(origin.address)
        kind = policy.refusal(address) if policy is not None and address is not None else None
        if kind is not None:
            raise ContractError(f"origins[{n}].address", refused_rule(kind))
        if scheme == "http":
            location = HTTP
        elif not doc.verify_origin.enabled:
            location = HTTPS
        elif not verify_ready:
            raise ContractError(
                "verify_origin.enabled", "this edge node has no CA certificates to verify with"
            )
        else:
            location = HTTPS_VERIFY if origin.sni else ""
        levels.setdefault(origin.priority, []).append(
            {"a": _peer(origin, port), "n": origin.sni or "", "w": origin.weight, "loc": location}
        )
    host = "" if not doc.origin_host or doc.origin_host.startswith("*.") else doc.origin_host
    record = {
        "k": doc.domain,
        "r": doc.revision,
        "on": doc.enabled,
        "host": host,
        "o": [levels[priority] for priority in sorted(levels)],
    }
    return json.dumps(record, separators=(",", ":"))
