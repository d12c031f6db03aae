"""Whether a domain's DNS already points at its CNAME, looked up through the resolvers of
`VERIFY_DNS_RESOLVER` (the host's otherwise), as root verification does (`domains.verification`).

The Domain Names page never waits for DNS: it asks for one page of rows after it is shown. Each answer is kept
in the cache for a short while (a pointed CNAME longer than a missing one, which the customer may be fixing),
and a page's lookups run side by side with a short time limit, so a page of 100 rows costs at most one
lookup's time limit once, and nothing while the answers are cached.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

import dns.exception
import dns.resolver
from django.conf import settings
from django.core.cache import cache

from domains.verification import _resolver

POINTED_TTL = 300
MISSING_TTL = 60
LOOKUP_TIMEOUT = 2.0
PARALLEL = 10


class CnameState(StrEnum):
    POINTED = "pointed"
    MISSING = "missing"  # no CNAME record, or one pointing elsewhere
    UNKNOWN = "unknown"  # the lookup failed (timeout, server error): say nothing


def _key(name: str, cname: str) -> str:
    return f"cname-check:{name}:{cname}"


def _lookup(name: str, cname: str) -> CnameState:
    resolver = _resolver()
    resolver.lifetime = min(
        resolver.lifetime, float(getattr(settings, "CNAME_CHECK_TIMEOUT", LOOKUP_TIMEOUT))
    )
    try:
        answer = resolver.resolve(name, "CNAME", raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return CnameState.MISSING
    except dns.exception.DNSException:
        return CnameState.UNKNOWN
    targets = {record.target.to_text(omit_final_dot=True).lower() for record in answer}
    return CnameState.POINTED if cname.lower() in targets else CnameState.MISSING


def cname_states(pairs: list[tuple[str, str]]) -> dict[str, CnameState]:
    """The state of each (domain name, CNAME); a wildcard domain is looked up by one name under it."""
    cached = cache.get_many([_key(name, cname) for name, cname in pairs])
    states = {
        name: CnameState(cached[_key(name, cname)]) for name, cname in pairs if _key(name, cname) in cached
    }
    todo = [(name, cname) for name, cname in pairs if name not in states]
    if todo:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(todo))) as pool:
            found = pool.map(lambda pair: _lookup(pair[0].replace("*", "cname-check", 1), pair[1]), todo)
            for (name, cname), state in zip(todo, found, strict=True):
                states[name] = state
                if state != CnameState.UNKNOWN:
                    ttl = POINTED_TTL if state == CnameState.POINTED else MISSING_TTL
                    cache.set(_key(name, cname), state.value, ttl)
    return states
