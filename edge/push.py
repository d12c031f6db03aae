"""Pushing signed config batches to edge agents: every node at once, on connections kept alive.

One event loop in a thread of its own per process, and one HTTP client per agent on it; a round pushes each
node its batch concurrently (at most EDGE_PUSH_CONCURRENCY in flight) and returns each node's outcome.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import threading
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings

from edge.keys import node_signing_keys
from edge_agent.signing import signed_headers


@dataclass
class NodeOutcome:
    """What one node answered to its batch: the revisions it holds, or why it could not be reached."""

    node_id: int
    ok: bool
    transient: bool = False
    error: str = ""
    held: dict[str, int] = field(default_factory=dict)
    # A domain the agent could not serve, with its own reason (names only that domain's settings).
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What a push needs of a node: no model instance, so a round loads only these columns (its keys are
    read where the push is signed: `push_round`)."""

    pk: int
    name: str
    agent_url: str


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA store for each fan-out cost tens of milliseconds."""
    return httpx.create_ssl_context()


class _Pusher:
    """An event loop in a thread of its own, and an HTTP client per agent on it, for the life of a process.

    Connections to the agents are kept alive from one push round to the next (a round no longer opens a TCP
    connection per node, nor builds an event loop and a client), and a client is only ever used on the loop
    it was made on. One client per agent, not one for all: httpx's connection pool scans all of its
    connections for every request it places, which grows with the square of the nodes. A client unused for
    `KEEPALIVE_EXPIRY` seconds is closed (an agent keeps an idle connection for 75 s, so the console closes
    first), and a connection the agent closed meanwhile is noticed and replaced before it is used.
    """

    KEEPALIVE_EXPIRY = 60.0

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.clients: dict[str, tuple[httpx.AsyncClient, float]] = {}
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="edge-push", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def client(self, base_url: str, now: float) -> httpx.AsyncClient:
        """The client of one agent (call on the loop)."""
        entry = self.clients.get(base_url)
        client = entry[0] if entry else None
        if client is None:
            limits = httpx.Limits(max_keepalive_connections=1, keepalive_expiry=self.KEEPALIVE_EXPIRY)
            client = httpx.AsyncClient(
                timeout=settings.EDGE_PUSH_TIMEOUT, limits=limits, verify=_tls_context()
            )
        self.clients[base_url] = (client, now)
        return client

    async def close_idle(self, now: float) -> None:
        """Close the clients of agents not pushed to for a while (nodes deleted, or moved to another URL)."""
        idle = [url for url, (_, used) in self.clients.items() if now - used > self.KEEPALIVE_EXPIRY]
        for url in idle:
            client, _ = self.clients.pop(url)
            await client.aclose()

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:  # the task's time limit, or a signal: stop the round too
            future.cancel()
            raise


_pusher: _Pusher | None = None
_pusher_lock = threading.Lock()


def _the_pusher() -> _Pusher:
    """This process's `_Pusher` (a forked child makes its own: a loop and sockets do not survive a fork)."""
    global _pusher
    with _pusher_lock:
        if _pusher is None or _pusher.pid != os.getpid():
            _pusher = _Pusher()
        return _pusher


async def _push_all(
    batches: dict[int, tuple[Target, bytes]], keys: dict[int, tuple[str, ...]], pusher: _Pusher
) -> list[NodeOutcome]:
    semaphore = asyncio.Semaphore(settings.EDGE_PUSH_CONCURRENCY)
    timeout = settings.EDGE_PUSH_TIMEOUT
    now = time.monotonic()
    await pusher.close_idle(now)

    async def push(node: Target, body: bytes) -> NodeOutcome:
        base_url = node.agent_url.rstrip("/")
        client = pusher.client(base_url, now)
        url = base_url + "/v1/config"
        async with semaphore:
            try:
                response = await client.post(
                    url, content=body, headers=signed_headers(keys.get(node.pk, ()), body), timeout=timeout
                )
            except httpx.HTTPError as exc:
                reason = str(exc) or type(exc).__name__
                return NodeOutcome(node.pk, ok=False, transient=True, error=f"Agent unreachable: {reason}")
        if response.status_code != 200:
            try:
                detail = response.json().get("error", "")
            except ValueError:
                detail = response.text[:300]
            return NodeOutcome(
                node.pk,
                ok=False,
                transient=response.status_code >= 500,
                error=f"Agent answered {response.status_code}: {detail}".strip(),
            )
        try:
            results = response.json()["results"]
            held = {item["domain"]: int(item["held_revision"]) for item in results}
            errors = {item["domain"]: str(item["error"]) for item in results if item["status"] == "failed"}
        except (ValueError, KeyError, TypeError):
            return NodeOutcome(node.pk, ok=False, transient=True, error="Agent sent an unreadable answer")
        return NodeOutcome(node.pk, ok=True, held=held, errors=errors)

    return await asyncio.gather(*(push(node, body) for node, body in batches.values()))


def push_round(batches: dict[int, tuple[Target, bytes]]) -> list[NodeOutcome]:
    """Push every batch concurrently on this process's loop and client; wait for the outcome.

    The nodes' keys are read now, as a round starts: a key rotation that moved on meanwhile is followed.
    """
    keys = node_signing_keys(list(batches))
    pusher = _the_pusher()
    return pusher.run(_push_all(batches, keys, pusher))
