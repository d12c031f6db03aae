"""The agent's HTTP service (aiohttp): POST /v1/config, GET /status, GET /v1/config/{domain}, GET /healthz.

Every request but /healthz is signed with the node's key (`edge_agent.signing`); the headers are checked
before a body is read, and a body is read only up to `max_body` bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from edge_agent.addresses import Policy, parse_address
from edge_agent.contract import ContractError, DomainDocument, is_host_name, parse
from edge_agent.documents import DocumentError, Item, read_batch
from edge_agent.resolve import ResolveError, resolve
from edge_agent.runtime import Listener, compile_record
from edge_agent.signing import MAX_SKEW_SECONDS, KeyRing, SignatureError, verify, verify_request
from edge_agent.state import (
    JOURNAL_FILE,
    OLD_JOURNAL_FILE,
    AgentState,
    StateStore,
    load_state,
    now_iso,
    save_state,
)

logger = logging.getLogger("edge_agent")
MAX_BODY = 256 * 1024 * 1024


class Applier(Protocol):
    """Makes the edge serve domain records (compiled by `edge_agent.runtime`).

    `start` is given every record at once (a first sync, a restart); `apply` only the changed ones (None
    removes a domain) and answers the domains it could not take, with their reasons; raising means the edge
    took nothing (a node failure, not a domain's).
    """

    verify_ready: bool
    resolvers: list[str]

    async def start(self, records: dict[str, str]) -> None: ...

    async def apply(self, changes: dict[str, str | None]) -> dict[str, str]: ...


class Agent:
    def __init__(
        self,
        name: str,
        key: str | KeyRing,
        state_dir: Path,
        applier: Applier | None = None,
        *,
        listeners: Iterable[str] = (),
        max_body: int = MAX_BODY,
        origin_policy: Policy | None = None,
    ) -> None:
        self.name = name
        # Which origin addresses this node fetches from (None: any); names are checked where resolved.
        self.origin_policy = origin_policy
        # The keys requests may be signed with (more than one during a key rotation).
        self.keyring = key if isinstance(key, KeyRing) else KeyRing(key)
        self.state_dir = state_dir
        self.applier = applier
        self.listeners = [Listener.parse(value) for value in listeners]
        self.max_body = max_body
        self.state: AgentState = load_state(state_dir)
        self.store = StateStore(state_dir)
        if any((state_dir / name).exists() for name in (JOURNAL_FILE, OLD_JOURNAL_FILE)):
            save_state(state_dir, self.state)
            for name in (OLD_JOURNAL_FILE, JOURNAL_FILE):
                (state_dir / name).unlink(missing_ok=True)
        self.started_at = now_iso()
        self.lock = asyncio.Lock()
        self.seen_nonces: dict[str, float] = {}
        self.compacting: asyncio.Task[None] | None = None

    # Records ------------------------------------------------------------------------------------------

    def record(self, doc: DomainDocument) -> str:
        ready = getattr(self.applier, "verify_ready", True)
        return compile_record(doc, own=self.listeners, verify_ready=ready, policy=self.origin_policy)

    def held_records(self) -> dict[str, str]:
        """The records of every live held domain that this node can serve (others are logged and left out)."""
        records = {}
        for name, document in self.state.live_documents().items():
            try:
                doc = parse(document)
                assert isinstance(doc, DomainDocument)
                records[name] = self.record(doc)
            except (ContractError, AssertionError) as exc:
                logger.error("%s: cannot serve %s: %s", self.name, name, exc)
        return records

    async def _unresolved(self, docs: Iterable[DomainDocument]) -> dict[str, str]:
        """The domains (of `docs`) one of whose origin names does not resolve now, with the reason."""
        resolvers = getattr(self.applier, "resolvers", None)
        if not resolvers:
            return {}
        from edge_agent.resolve import parse_resolver

        servers = [parse_resolver(value) for value in resolvers]
        names = {o.address for doc in docs for o in doc.origins if is_host_name(o.address)}
        limit = asyncio.Semaphore(32)

        async def one(name: str) -> tuple[str, str | list[str]]:
            async with limit:
                try:
                    return name, await resolve(servers, name)
                except ResolveError as exc:
                    return name, str(exc)

        answers = dict(await asyncio.gather(*(one(name) for name in names)))
        reasons = {}
        for doc in docs:
            for n, origin in enumerate(doc.origins):
                answer = answers.get(origin.address)
                if isinstance(answer, str):
                    reasons[doc.domain] = (
                        f"origins[{n}].address: {origin.address} does not resolve ({answer})"
                    )
                    break
                if (refused := self._refused(answer or [])) is not None:
                    value, kind = refused
                    what = "an edge node's own address" if kind == "own" else f"a {kind} address"
                    reasons[doc.domain] = (
                        f"origins[{n}].address: {origin.address} resolves to {value}, {what}, "
                        "which this edge node does not fetch from"
                    )
                    break
        return reasons

    def _refused(self, addresses: list[str]) -> tuple[str, str] | None:
        """The first of a name's addresses that the origin policy refuses, with its kind; nginx's Lua refuses
        the same at request time."""
        for value in addresses:
            address = parse_address(value)
            kind = self.origin_policy.refusal(address) if self.origin_policy and address else None
            if kind is not None:
                return value, kind
        return None

    # Requests -----------------------------------------------------------------------------------------

    def _replayed(self, nonce: str) -> bool:
        now = time.monotonic()
        for old, expires in list(self.seen_nonces.items()):
            if expires < now:
                del self.seen_nonces[old]
        if nonce in self.seen_nonces:
            return True
        self.seen_nonces[nonce] = now + 2 * MAX_SKEW_SECONDS
        return False

    def _refuse(self, request: web.Request, reason: str, status: int = 401) -> web.Response:
        logger.warning(
            "%s: refused %s %s from %s: %s", self.name, request.method, request.path, request.remote, reason
        )
        return web.json_response({"error": reason}, status=status)

    def _signed_read(self, request: web.Request) -> web.Response | None:
        try:
            keys = self.keyring.keys()
            verify_request(keys, request.headers, method="GET", path=request.path, length=0)
            verify(keys, request.headers, b"")
        except SignatureError as exc:
            return self._refuse(request, str(exc))
        return None

    async def push(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is None:
            return self._refuse(request, "a push needs a Content-Length", 411)
        try:
            keys = self.keyring.keys()
            verify_request(keys, request.headers, method="POST", path=request.path, length=length)
        except SignatureError as exc:
            return self._refuse(request, str(exc))
        if length > self.max_body:
            return self._refuse(request, f"body larger than {self.max_body} bytes", 413)
        body = await request.content.readexactly(length)
        try:
            nonce = verify(keys, request.headers, body)
        except SignatureError as exc:
            return self._refuse(request, str(exc))
        try:
            items = read_batch(json.loads(body))
        except (DocumentError, ValueError, RecursionError) as exc:
            return web.json_response({"error": f"malformed config: {exc}"}, status=400)
        del body
        async with self.lock:
            if self._replayed(nonce):
                return self._refuse(request, "replayed request")
            try:
                results, applied = await self._apply(items)
            except OSError as exc:
                return web.json_response({"error": f"could not save the state: {exc}"}, status=500)
            except Exception as exc:  # noqa: BLE001 - the node could take nothing: a node failure
                logger.error("%s: the edge could not apply a push: %s", self.name, exc)
                return web.json_response({"error": "the edge node could not apply the change"}, status=503)
        if applied:
            logger.info("%s: applied %s", self.name, ", ".join(f"{d}@{r}" for d, r in applied.items()))
        return web.json_response({"node": self.name, "results": results})

    async def _apply(self, items: list[Item]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        state = self.state
        errors: dict[str, str] = {}
        newer: dict[str, DomainDocument | None] = {}
        current: list[DomainDocument] = []
        for item in items:
            held = state.held_revision(item.domain)
            if item.document is None:
                errors[item.domain] = item.error
            elif item.revision > held:
                newer[item.domain] = item.document if isinstance(item.document, DomainDocument) else None
            elif item.revision == held and isinstance(item.document, DomainDocument):
                current.append(item.document)
        changes: dict[str, str | None] = {}
        for domain, doc in newer.items():
            try:
                changes[domain] = (
                    None if doc is None or not isinstance(doc, DomainDocument) else self.record(doc)
                )
            except ContractError as exc:
                errors[domain] = str(exc)
        if changes and self.applier is not None:
            errors |= await self.applier.apply(changes)
        unresolved = await self._unresolved([doc for doc in [*newer.values(), *current] if doc is not None])

        taken = {item.domain: item for item in items if item.domain in changes and item.domain not in errors}
        # Every accepted push is journalled (its count with it), a line whatever the number of domains held.
        pushes, at = state.pushes + 1, now_iso()
        before = {domain: state.domains.get(domain) for domain in taken}
        documents = {domain: item.document.as_dict() for domain, item in taken.items() if item.document}
        try:
            await asyncio.to_thread(self.store.append, documents, pushes, at)
        except OSError as exc:
            logger.error("%s: could not save the state: %s", self.name, exc)
            await self._restore(before)
            raise
        state.hold(documents, at, pushes)
        self._maybe_compact()
        results = []
        for item in items:
            held = state.held_revision(item.domain)
            if item.domain in errors:
                status = "failed"
            elif item.domain in taken:
                status = "applied"
            else:
                status = "unchanged" if item.revision == held else "stale"
            result = {
                "domain": item.domain,
                "revision": item.revision,
                "status": status,
                "held_revision": held,
            }
            error = errors.get(item.domain) or (unresolved.get(item.domain) if status != "stale" else None)
            if error:
                result["status"], result["error"] = "failed", error
            results.append(result)
        return results, {domain: item.revision for domain, item in taken.items()}

    async def _restore(self, before: dict[str, Any]) -> None:
        """Give the edge back the records of before a push whose state could not be saved."""
        if self.applier is None:
            return
        records: dict[str, str | None] = {}
        for domain, held in before.items():
            doc = None if held is None or held.deleted else parse(held.document)
            records[domain] = self.record(doc) if isinstance(doc, DomainDocument) else None
        try:
            await self.applier.apply(records)
        except Exception as exc:  # noqa: BLE001 - logged; the push is refused either way
            logger.error("%s: could not restore the previous configuration: %s", self.name, exc)

    def _maybe_compact(self) -> None:
        if (self.compacting is not None and not self.compacting.done()) or not self.store.wants_compaction():
            return
        copy = self.store.rotate(self.state)
        self.compacting = asyncio.get_running_loop().create_task(asyncio.to_thread(self.store.compact, copy))

    async def status(self, request: web.Request) -> web.Response:
        if (refused := self._signed_read(request)) is not None:
            return refused
        domains = {}
        for name, held in sorted(self.state.domains.items()):
            doc = held.document
            domains[name] = {
                "revision": held.revision,
                "deleted": held.deleted,
                "enabled": bool(doc.get("enabled", False)) and not held.deleted,
                "origin_sni": None if held.deleted else doc.get("origin_sni"),
                "applied_at": held.applied_at,
            }
        return web.json_response(
            {
                "node": self.name,
                "healthy": True,
                "started_at": self.started_at,
                "pushes": self.state.pushes,
                "domains": domains,
            }
        )

    async def config(self, request: web.Request) -> web.Response:
        if (refused := self._signed_read(request)) is not None:
            return refused
        held = self.state.domains.get(request.match_info["domain"])
        if held is None or held.deleted:
            return web.json_response({"error": "unknown domain"}, status=404)
        return web.json_response(held.document)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def close(self) -> None:
        if self.compacting is not None:
            await self.compacting


AGENT = web.AppKey("agent", Agent)


def create_app(
    name: str,
    key: str | KeyRing,
    state_dir: Path,
    applier: Applier | None = None,
    *,
    listeners: Iterable[str] = (),
    max_body: int = MAX_BODY,
    origin_policy: Policy | None = None,
) -> web.Application:
    agent = Agent(
        name,
        key,
        Path(state_dir),
        applier,
        listeners=listeners,
        max_body=max_body,
        origin_policy=origin_policy,
    )
    app = web.Application(client_max_size=max_body)
    app[AGENT] = agent
    app.router.add_post("/v1/config", agent.push)
    app.router.add_get("/v1/config/{domain}", agent.config)
    app.router.add_get("/status", agent.status)
    app.router.add_get("/healthz", agent.healthz)

    async def close(app: web.Application) -> None:
        await agent.close()

    app.on_cleanup.append(close)
    return app
