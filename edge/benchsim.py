"""Simulated edge agents for the fan-out benchmark: one process, one event loop, many listening ports.

Each endpoint verifies the signature like a real agent and holds revisions in memory (no nginx, no disk).
`GET /v1/arrivals` (on any port) returns the wall-clock times at which pushes arrived since the last call, so
the benchmark can tell where a change's time goes.
`python -m edge.benchsim --key KEY --ports 20000-20999`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time

from aiohttp import web

from edge_agent.signing import SignatureError, verify


def make_app(key: str) -> web.Application:
    held: dict[tuple[int, str], int] = {}
    arrivals: list[float] = []

    async def push(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        body = await request.read()
        try:
            verify(key, request.headers, body)
        except SignatureError as exc:
            return web.json_response({"error": str(exc)}, status=401)
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        results = []
        for doc in json.loads(body)["domains"]:
            slot = (port, doc["domain"])
            current = held.get(slot, 0)
            if doc["revision"] > current:
                held[slot] = current = doc["revision"]
            results.append(
                {
                    "domain": doc["domain"],
                    "revision": doc["revision"],
                    "status": "applied",
                    "held_revision": current,
                }
            )
        return web.json_response({"node": str(port), "results": results})

    async def arrived(request: web.Request) -> web.Response:
        seen = list(arrivals)
        arrivals.clear()
        return web.json_response(seen)

    app = web.Application()
    app.router.add_post("/v1/config", push)
    app.router.add_get("/v1/arrivals", arrived)
    app.router.add_get("/healthz", lambda request: web.Response(text="ok"))
    return app


async def serve(key: str, first: int, last: int) -> None:
    runner = web.AppRunner(make_app(key), access_log=None)
    await runner.setup()
    for port in range(first, last + 1):
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    print(f"serving {last - first + 1} endpoints", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--ports", required=True, help="FIRST-LAST")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    first, last = (int(p) for p in args.ports.split("-"))
    asyncio.run(serve(args.key, first, last))


if __name__ == "__main__":
    main()
