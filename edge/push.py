"""Pushing signed config batches to edge agents: every node at once, on connections kept alive.

One event loop in a thread of its own per process, and one aiohttp session on it; a round pushes each node its
batch concurrently (at most EDGE_PUSH_CONCURRENCY in flight) and returns each node's outcome.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import ssl
import threading
from dataclasses import dataclass, field

import aiohttp
import certifi
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
    return ssl.create_default_context(cafile=certifi.where())


class _Pusher:
    """An event loop in a thread of its own, and one aiohttp session on it, for the life of a process.

    Connections to the agents are kept alive from one push round to the next (a round opens no TCP
    connection to a node it pushed to within `KEEPALIVE_EXPIRY` seconds, nor builds an event loop and a
    client), and the session is only ever used on the loop it was made on. Its pool is keyed by agent, so
    placing a request costs the same with 10 nodes as with 1,000 (httpx's pool, scanned in full for each
    request, cost four times as much per push at 1,000 nodes). An agent keeps an idle connection for 75 s,
    so the console closes first; a connection the agent closed meanwhile is noticed by the loop (it runs
    all along) and is not used again.
    """

    KEEPALIVE_EXPIRY = 60.0

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.session: aiohttp.ClientSession | None = None
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="edge-push", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def client(self) -> aiohttp.ClientSession:
        """The session (call on the loop)."""
        if self.session is None or self.session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, keepalive_timeout=self.KEEPALIVE_EXPIRY, ssl=_tls_context(), ttl_dns_cache=60
            )
            self.session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self.session

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


def unreachable_reason(exc: BaseException) -> str:
    """Why an agent could not be reached, in a few words that name no address: `ConnectError: Connection
    refused`, `ConnectTimeout`, `ReadTimeout`, `ServerDisconnected`…"""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "ConnectTimeout"
    if isinstance(exc, TimeoutError):  # aiohttp's read timeouts are TimeoutErrors too
        return "ReadTimeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = exc.os_error.errno
        return f"ConnectError: {os.strerror(code) if code else type(exc.os_error).__name__}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "ServerDisconnected"
    return type(exc).__name__.removeprefix("Client")


async def _push_all(
    batches: dict[int, tuple[Target, bytes]], keys: dict[int, tuple[str, ...]], pusher: _Pusher
) -> list[NodeOutcome]:
    semaphore = asyncio.Semaphore(settings.EDGE_PUSH_CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=settings.EDGE_PUSH_TIMEOUT)  # as configured now, each round
    session = pusher.client()

    async def push(node: Target, body: bytes) -> NodeOutcome:
        url = node.agent_url.rstrip("/") + "/v1/config"
        headers = signed_headers(keys.get(node.pk, ()), body)
        async with semaphore:
            try:
                async with session.post(url, data=body, headers=headers, timeout=timeout) as response:
                    status, answer = response.status, await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                error = f"Agent unreachable: {unreachable_reason(exc)}"
                return NodeOutcome(node.pk, ok=False, transient=True, error=error)
        if status != 200:
            try:
                detail = json.loads(answer).get("error", "")
            except (ValueError, AttributeError):
                detail = answer[:300].decode(errors="replace")
            return NodeOutcome(
                node.pk,
                ok=False,
                transient=status >= 500,
                error=f"Agent answered {status}: {detail}".strip(),
            )
        try:
            results = json.loads(answer)["results"]
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
