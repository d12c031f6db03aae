"""Does an origin name resolve, through the node's configured resolver? A small DNS client (A and AAAA).

nginx resolves origin names by itself at request time; the agent asks the same resolver when a document
arrives only to tell the console, in that domain's result, that its origin name does not resolve now.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
import struct

TYPES = {1: 4, 28: 16}  # A and AAAA: their address lengths


class ResolveError(Exception):
    """No address: the message says why in a user's words (the name does not exist, no answer...)."""


def parse_resolver(value: str) -> tuple[str, int]:
    """`ADDRESS`, `ADDRESS:PORT` or `[IPV6]:PORT` as (address, port)."""
    if value.startswith("["):
        host, _, port = value[1:].partition("]")
        port = port.lstrip(":")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, ""
    ipaddress.ip_address(host)
    number = int(port) if port else 53
    if not 1 <= number <= 65535:
        raise ValueError(f"bad port in {value!r}")
    return host, number


def _query(name: str, qtype: int) -> tuple[int, bytes]:
    ident = secrets.randbelow(65536)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return ident, struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", qtype, 1)


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def _answers(data: bytes, ident: int) -> tuple[int, list[str]]:
    got, flags, qdcount, ancount = struct.unpack("!HHHH", data[:8])
    if got != ident:
        raise ValueError("another query's answer")
    offset = 12
    for _ in range(qdcount):
        offset = _skip_name(data, offset) + 4
    addresses = []
    for _ in range(ancount):
        offset = _skip_name(data, offset)
        rtype, _rclass, _ttl, length = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        if TYPES.get(rtype) == length:
            addresses.append(str(ipaddress.ip_address(data[offset : offset + length])))
        offset += length
    return flags & 0x000F, addresses


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.answers.put_nowait(data)


async def _ask(server: tuple[str, int], name: str, qtype: int, timeout: float) -> tuple[int, list[str]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Protocol, remote_addr=server)
    try:
        ident, packet = _query(name, qtype)
        deadline = loop.time() + timeout
        for _attempt in range(2):
            transport.sendto(packet)
            while (left := min(deadline, loop.time() + timeout / 2) - loop.time()) > 0:
                try:
                    data = await asyncio.wait_for(protocol.answers.get(), left)
                except TimeoutError:
                    break
                with contextlib.suppress(ValueError, IndexError, struct.error):
                    return _answers(data, ident)
        raise ResolveError("the resolver did not answer")
    finally:
        transport.close()


async def resolve(servers: list[tuple[str, int]], name: str, *, timeout: float = 2.0) -> list[str]:
    """The addresses of `name` (A, then AAAA); ResolveError if there are none."""
    if not servers:
        raise ResolveError("no resolver is configured on the edge node")
    last = "the name does not resolve"
    for server in servers:
        try:
            rcode, addresses = await _ask(server, name, 1, timeout)
            if not addresses and rcode == 0:
                rcode, addresses = await _ask(server, name, 28, timeout)
        except (ResolveError, OSError) as exc:
            last = str(exc) if isinstance(exc, ResolveError) else "the resolver could not be reached"
            continue
        if addresses:
            return addresses
        last = "the name does not exist" if rcode == 3 else "the name has no address"
    raise ResolveError(last)


def system_resolvers(path: str = "/etc/resolv.conf") -> list[str]:
    """The nameservers of the host's resolver configuration."""
    found = []
    with contextlib.suppress(OSError), open(path) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                with contextlib.suppress(ValueError):
                    ipaddress.ip_address(parts[1].split("%")[0])
                    if "%" not in parts[1]:
                        found.append(parts[1])
    return found
