"""The agent's HTTP service (aiohttp): POST /v1/config, GET /status, GET /v1/config/{domain}, GET /healthz."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from edge_agent.documents import DocumentError, check_batch
from edge_agent.signing import MAX_SKEW_SECONDS, SignatureError, verify
from edge_agent.state import AgentState, load_state, now_iso, save_state

logger = logging.getLogger("edge_agent")


class Applier(Protocol):
    """Makes the edge serve a set of domain documents (for example by rendering and reloading nginx).

    Called with every live document the agent will hold after a batch, before the state is saved; raising
    refuses the batch and leaves the state as it was.
    """

    async def apply(self, documents: dict[str, dict[str, Any]]) -> None: ...


class ApplyError(Exception):
    """The edge could not take the new configuration; the message says why."""


class Agent:
    def __init__(self, name: str, key: str, state_dir: Path, applier: Applier | None = None) -> None:
        self.name = name
        self.key = key
        self.state_dir = state_dir
        self.applier = applier
        self.state: AgentState = load_state(state_dir)
        self.started_at = now_iso()
        self.lock = asyncio.Lock()
        self.seen_nonces: dict[str, float] = {}

    def _replayed(self, nonce: str) -> bool:
        now = time.monotonic()
        for old, expires in list(self.seen_nonces.items()):
            if expires < now:
                del self.seen_nonces[old]
        if nonce in self.seen_nonces:
            return True
        self.seen_nonces[nonce] = now + 2 * MAX_SKEW_SECONDS
        return False

    async def push(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            nonce = verify(self.key, request.headers, body)
        except SignatureError as exc:
            logger.warning("%s: refused a push from %s: %s", self.name, request.remote, exc)
            return web.json_response({"error": str(exc)}, status=401)
        try:
            documents = [doc.as_dict() for doc in check_batch(json.loads(body))]
        except (DocumentError, ValueError, RecursionError) as exc:
            return web.json_response({"error": f"malformed config: {exc}"}, status=400)

        async with self.lock:
            if self._replayed(nonce):
                logger.warning("%s: refused a replayed push from %s", self.name, request.remote)
                return web.json_response({"error": "replayed request"}, status=401)
            before = self.state
            results, changed = [], {}
            for doc in documents:
                domain, revision = doc["domain"], doc["revision"]
                held_revision = before.held_revision(domain)
                if revision > held_revision:
                    status, held_revision = "applied", revision
                    changed[domain] = doc
                else:
                    status = "unchanged" if revision == held_revision else "stale"
                results.append(
                    {"domain": domain, "revision": revision, "status": status, "held_revision": held_revision}
                )

            after = before.after_push(changed, now_iso())
            if changed and self.applier is not None:
                try:
                    await self.applier.apply(copy.deepcopy(after.live_documents()))
                except Exception as exc:  # noqa: BLE001 - any failure refuses the batch, with its reason
                    logger.error("%s: could not apply %s: %s", self.name, sorted(changed), exc)
                    return web.json_response({"error": f"apply failed: {exc}"}, status=422)
            try:
                await asyncio.to_thread(save_state, self.state_dir, after)
            except OSError as exc:
                logger.error("%s: could not save the state: %s", self.name, exc)
                await self._restore(before, changed)
                return web.json_response({"error": f"could not save the state: {exc}"}, status=500)
            self.state = after
        if changed:
            logger.info(
                "%s: applied %s", self.name, ", ".join(f"{d}@{c['revision']}" for d, c in changed.items())
            )
        return web.json_response({"node": self.name, "results": results})

    async def _restore(self, before: AgentState, changed: dict[str, dict[str, Any]]) -> None:
        """Give the applier back the documents held before a push whose state could not be saved."""
        if changed and self.applier is not None:
            try:
                await self.applier.apply(copy.deepcopy(before.live_documents()))
            except Exception as exc:  # noqa: BLE001 - logged; the push is refused either way
                logger.error("%s: could not restore the previous configuration: %s", self.name, exc)

    async def status(self, request: web.Request) -> web.Response:
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
        held = self.state.domains.get(request.match_info["domain"])
        if held is None or held.deleted:
            return web.json_response({"error": "unknown domain"}, status=404)
        return web.json_response(held.document)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")


AGENT = web.AppKey("agent", Agent)


def create_app(name: str, key: str, state_dir: Path, applier: Applier | None = None) -> web.Application:
    agent = Agent(name, key, Path(state_dir), applier)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[AGENT] = agent
    app.router.add_post("/v1/config", agent.push)
    app.router.add_get("/v1/config/{domain}", agent.config)
    app.router.add_get("/status", agent.status)
    app.router.add_get("/healthz", agent.healthz)
    return app
