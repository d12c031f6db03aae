"""Origins cannot point inside: the console's side of the address rule of `edge_agent.addresses`.

The rule is the edge's (one table for both), with the operator's allow-list (`ORIGIN_ALLOWED_NETWORKS`).
Every path that writes an origin (pages, REST, Alibaba-compatible API, admin) reaches it through
`domains.validators.validate_origin`; the services add the addresses and host names of the enabled edge
nodes' agents (`check_not_edge_node`), which need the database.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from edge.models import EdgeNode
from edge_agent.addresses import Address, Network, Policy, parse_address, parse_networks

MESSAGES = {
    "loopback": _(
        "“%(value)s” is a loopback address: an edge node would fetch from itself. "
        "Enter the public address of your origin."
    ),
    "unspecified": _("“%(value)s” is the unspecified address. Enter the public address of your origin."),
    "link-local": _(
        "“%(value)s” is a link-local address (such as a cloud's metadata service), which edge nodes must "
        "not fetch from. Enter the public address of your origin."
    ),
    "private": _(
        "“%(value)s” is in a private network, which edge nodes cannot reach. "
        "Enter the public address of your origin."
    ),
    "shared": _(
        "“%(value)s” is in the shared address space 100.64.0.0/10 of carrier-grade NAT, which edge nodes "
        "cannot reach. Enter the public address of your origin."
    ),
    "multicast": _("“%(value)s” is a multicast address. Enter the public address of your origin."),
    "reserved": _(
        "“%(value)s” is in a reserved range (documentation, benchmarking or future use), which is not "
        "an address on the Internet. Enter the public address of your origin."
    ),
    "own": _("“%(value)s” is an address of the CDN's own edge nodes. Enter the address of your origin."),
}
MAPPED_MESSAGE = _("“%(value)s” is an IPv4 address written as IPv6: enter %(ipv4)s as an IPv4 address.")


@functools.cache
def _allowed(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def allowed_networks() -> tuple[Network, ...]:
    """The networks of `ORIGIN_ALLOWED_NETWORKS` (checked when the settings load)."""
    return _allowed(tuple(getattr(settings, "ORIGIN_ALLOWED_NETWORKS", ())))


def edge_node_hosts() -> tuple[frozenset[Address], frozenset[str]]:
    """The addresses and the host names of the enabled edge nodes' agents."""
    addresses, names = set(), set()
    for url in EdgeNode.objects.filter(enabled=True).values_list("agent_url", flat=True):
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        address = parse_address(host)
        if address is not None:
            addresses.add(address)
        elif host:
            names.add(host)
    return frozenset(addresses), frozenset(names)


def check_origin_ip(value: str, address: Address) -> None:
    """Refuse an origin at `address` (typed as `value`) in a range edge nodes must not fetch from."""
    _refuse(Policy(allowed=allowed_networks()).refusal(address), value, address)


def _refuse(kind: str | None, value: str, address: Address | None) -> None:
    if kind is None:
        return
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None and kind != "own":
        raise ValidationError(
            MAPPED_MESSAGE, code="ipv4_mapped", params={"value": value, "ipv4": str(mapped)}
        )
    raise ValidationError(MESSAGES[kind], code=kind.replace("-", "_"), params={"value": value})


def check_not_edge_node(address: str) -> None:
    """Refuse an origin (a cleaned address: an IP in its compressed form, or a host name) that is an enabled
    edge node's agent, unless the operator allowed its network."""
    own, names = edge_node_hosts()
    ip = parse_address(address)
    if ip is not None:
        _refuse(Policy(allowed=allowed_networks(), own=own).refusal(ip) if ip in own else None, address, ip)
    elif address in names:
        _refuse("own", address, None)
