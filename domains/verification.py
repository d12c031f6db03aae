"""The checks behind root domain verification: a TXT record, or a file on the root's web site.

DNS goes through the resolvers of `VERIFY_DNS_RESOLVER` (the host's otherwise). The file is fetched from
`https://<root>/verification.html`, then `http://` (ports `VERIFY_HTTPS_PORT`, `VERIFY_HTTP_PORT`), with short
timeouts and a small size limit; every host it reaches, the root's and any redirect's, is resolved first and
must be an address origins may have (`domains.origin_addresses`: no loopback, private, metadata... unless
allowed), and the connection goes to that very address, so a redirect or a DNS answer cannot steer the console
inside the operator's network.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.nameserver
import dns.resolver
import httpx
from django.conf import settings

from domains.ownership import FILE_PATH, txt_record_name
from edge_agent.addresses import Address, Policy, parse_address
from edge_agent.resolve import parse_resolver

MAX_REDIRECTS = 3
MAX_FILE_BYTES = 4096


@dataclass(frozen=True)
class CheckFailed(Exception):
    """Why a verification failed: `code` (`dns_missing`, `dns_mismatch`, `file_missing`, `file_mismatch`,
    `file_refused`, `unreachable`) and the facts for the message."""

    code: str
    detail: str = ""


def _resolver() -> dns.resolver.Resolver:
    servers = [parse_resolver(value) for value in getattr(settings, "VERIFY_DNS_RESOLVER", [])]
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    resolver.lifetime = float(getattr(settings, "VERIFY_TIMEOUT", 5.0))
    return resolver


def dns_check(root: str, token: str) -> None:
    """Pass if a TXT record of `verification.<root>` holds `token`; CheckFailed otherwise."""
    name = txt_record_name(root)
    try:
        answer = _resolver().resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        raise CheckFailed("dns_missing", name) from None
    except dns.exception.DNSException:
        raise CheckFailed("unreachable", name) from None
    values = [b"".join(record.strings).decode("utf-8", "replace").strip() for record in answer]
    if not values:
        raise CheckFailed("dns_missing", name)
    if token not in values:
        raise CheckFailed("dns_mismatch", name)


def _addresses(host: str) -> list[Address]:
    literal = parse_address(host)
    if literal is not None:
        return [literal]
    resolver, found = _resolver(), []
    for kind in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, kind, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            break
        except dns.exception.DNSException:
            continue
        found += [ipaddress.ip_address(record.address) for record in answer]
    return found


def _allowed_address(host: str) -> Address:
    """The address to fetch `host` from: every address of it must be one origins may have."""
    from domains.origin_addresses import allowed_networks

    addresses = _addresses(host)
    if not addresses:
        raise CheckFailed("unreachable", host)
    policy = Policy(allowed=allowed_networks())
    for address in addresses:
        if policy.refusal(address) is not None:
            raise CheckFailed("file_refused", host)
    return addresses[0]


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str
    body: bytes


def _get(client: httpx.Client, url: str) -> _Answer:
    """GET `url` from the address its host resolves to, checked; the host in the Host header and SNI."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = settings.VERIFY_HTTPS_PORT if parts.scheme == "https" else settings.VERIFY_HTTP_PORT
    port = parts.port or default
    address = _allowed_address(host)
    netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    target = parts._replace(netloc=netloc).geturl()
    headers = {"Host": host if port in (80, 443) else f"{host}:{port}"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    with client.stream("GET", target, headers=headers, extensions=extensions) as response:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_FILE_BYTES:
                break
        location = response.headers.get("Location", "") if response.is_redirect else ""
        return _Answer(response.status_code, location, body[:MAX_FILE_BYTES])


def _fetch(client: httpx.Client, url: str) -> _Answer:
    for _hop in range(MAX_REDIRECTS + 1):
        answer = _get(client, url)
        if not answer.location:
            return answer
        url = urljoin(url, answer.location)
        if urlsplit(url).scheme not in ("http", "https"):
            raise CheckFailed("file_missing", url)
    raise CheckFailed("file_missing", url)


def file_check(root: str, token: str) -> None:
    """Pass if `/verification.html` of the root's web site (HTTPS, else HTTP) holds `token`."""
    timeout = float(getattr(settings, "VERIFY_TIMEOUT", 5.0))
    verify: str | bool = getattr(settings, "VERIFY_CA_BUNDLE", "") or True
    last = CheckFailed("unreachable", root)
    with httpx.Client(timeout=httpx.Timeout(timeout), verify=verify, follow_redirects=False) as client:
        for scheme in ("https", "http"):
            url = f"{scheme}://{root}{FILE_PATH}"
            try:
                response = _fetch(client, url)
            except httpx.HTTPError:
                last = CheckFailed("unreachable", url)
                continue
            except CheckFailed as failed:
                if failed.code == "file_refused":
                    raise
                last = failed
                continue
            if response.status != 200:
                last = CheckFailed("file_missing", url)
                continue
            if response.body.decode("utf-8", "replace").strip() != token:
                raise CheckFailed("file_mismatch", url)
            return
    raise last
