"""Which addresses an origin may have: the one rule of the console and of every edge (no Django here).

An edge fetches from origins on a tenant's behalf, so an origin must be somewhere on the public Internet:
never the edge's own loopback, the cloud's metadata address (link-local), the operator's private networks,
carrier-grade NAT (shared), multicast, or ranges reserved by the IANA special-purpose registries (IPv4 and
IPv6, and IPv4 written inside IPv6: mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`). An operator lists the
networks that are allowed anyway (a lab, the tests' loopback origins): `Policy(allowed=...)`.

The ranges are spelled out here (not asked of `ipaddress` at run time) because the edge's nginx checks the
same table at request time (`ipv4_ranges`); a test holds the table to Python's own classification.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# (network, kind): the kind is what a message calls the address.
_REFUSED: tuple[tuple[str, str], ...] = (
    # IPv4 (RFC 6890 and the IANA IPv4 special-purpose registry)
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/29", "reserved"),
    ("192.0.0.170/31", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    # IPv6 (RFC 4291 and the IANA IPv6 special-purpose and address-space registries)
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    # Everything else under ::/8: IPv4-mapped, IPv4-compatible and NAT64 forms among them.
    ("::/8", "reserved"),
    ("100::/8", "reserved"),
    ("200::/7", "reserved"),
    ("400::/6", "reserved"),
    ("800::/5", "reserved"),
    ("1000::/4", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "reserved"),
    ("4000::/3", "reserved"),
    ("6000::/3", "reserved"),
    ("8000::/3", "reserved"),
    ("a000::/3", "reserved"),
    ("c000::/3", "reserved"),
    ("e000::/4", "reserved"),
    ("f000::/5", "reserved"),
    ("f800::/6", "reserved"),
    ("fc00::/7", "private"),
    ("fe00::/9", "reserved"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),
    ("ff00::/8", "multicast"),
)
REFUSED: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(network), kind) for network, kind in _REFUSED
)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR networks (or single addresses), comma- or space-separated; ValueError names a bad one."""
    networks = []
    for value in values:
        for item in value.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not a network such as 127.0.0.0/8 or 2001:db8::/32") from None
    return tuple(networks)


def parse_address(value: str) -> Address | None:
    """The address `value` spells, a zone (`fe80::1%eth0`) and brackets dropped; None if it is not one."""
    text = value.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def special_kind(address: Address) -> str | None:
    """The kind of special-purpose range `address` is in (`loopback`, `private`, ...), or None if it is
    a public address."""
    for network, kind in REFUSED:
        if address.version == network.version and address in network:
            return kind
    return None


@dataclass(frozen=True)
class Policy:
    """Origins must be public addresses other than the edge's own (`own`), except in the `allowed` networks,
    which the operator lets through whatever they are."""

    allowed: tuple[Network, ...] = ()
    # The addresses of the edge nodes' own services (their agents).
    own: frozenset[Address] = field(default_factory=frozenset)

    def refusal(self, address: Address) -> str | None:
        """Why an origin may not have `address` (the kind of range, or `own`), or None if it may."""
        for network in self.allowed:
            if address.version == network.version and address in network:
                return None
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        if address in self.own or (mapped is not None and mapped in self.own):
            return "own"
        return special_kind(address)

    def ipv4_ranges(self) -> dict[str, list[list[int]]]:
        """The refused and the allowed IPv4 ranges as [first, last] integers, for the edge's nginx."""

        def span(network: Network) -> list[int]:
            return [int(network.network_address), int(network.broadcast_address)]

        refused = [span(network) for network, _kind in REFUSED if network.version == 4]
        refused += [[int(address), int(address)] for address in self.own if address.version == 4]
        allowed = [span(network) for network in self.allowed if network.version == 4]
        return {"refused": refused, "allowed": allowed}
