"""A simulated fleet for the benchmarks (`bench_fanout`, `bench_api`): edge nodes served by simulated agents
(`edge.benchsim`, one process, many ports), real Celery workers, and the bare-client floor of a push.

Not used by the console itself; the benchmark commands start and stop everything here.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from accounts.audit import ChangeContext
from domains.models import Domain, OriginType
from domains.origin_services import OriginInput
from domains.services import domain_create
from edge.models import ConfigRevision, EdgeNode
from edge_agent.signing import signed_headers
from origin_fetch.services import origin_sni_update_many

KEY = "bench-signing-key"
# Seconds between checks for "applied" (a count of rows): the resolution of the figures; on average half of it
# is added to every time measured (5 ms added 2.5 ms to a 10-node change of about 20 ms).
POLL = 0.001


class Fleet:
    """Simulated agents on ports `base`…`base + size - 1`, and Celery workers started on demand."""

    def __init__(self, base: int, size: int) -> None:
        self.base = base
        self.size = size
        self.sim: subprocess.Popen[str] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_agents(self) -> None:
        if self.size <= 0 or self.sim is not None:
            return
        self.sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edge.benchsim",
                "--key",
                KEY,
                "--ports",
                f"{self.base}-{self.base + self.size - 1}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.sim.stdout is not None
        self.sim.stdout.readline()

    def start_workers(self, processes: int, concurrency: int = 1) -> None:
        """`processes` Celery workers of `concurrency` each (as on as many machines), replacing any."""
        self.stop_workers()
        for index in range(processes):
            self.workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "console",
                        "worker",
                        "--concurrency",
                        str(concurrency),
                        "--loglevel",
                        os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
                        "--without-gossip",
                        "--without-mingle",
                        "--hostname",
                        f"bench-{os.getpid()}-{index}@%h",
                    ],
                    env=os.environ | {"EDGE_RECONCILE_INTERVAL": "3600"},
                )
            )
        time.sleep(3)  # the workers connect to the broker and take tasks

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.sim is not None:
            self.sim.terminate()
            self.sim.wait()
            self.sim = None

    def set_nodes(self, size: int) -> list[EdgeNode]:
        """Exactly `size` enabled nodes, on the simulator's first ports (their delivery state goes too)."""
        EdgeNode.objects.all().delete()
        EdgeNode.objects.bulk_create(
            [
                EdgeNode(name=f"bench-{n:04}", agent_url=f"http://127.0.0.1:{self.base + n}", signing_key=KEY)
                for n in range(size)
            ]
        )
        return list(EdgeNode.objects.all())

    def arrivals(self) -> list[float]:
        return httpx.get(f"http://127.0.0.1:{self.base}/v1/arrivals").json()


def floor(nodes: list[EdgeNode], documents: list[dict[str, Any]]) -> float:
    """Seconds to send `documents` (one body) to every node concurrently with a bare client: the console's
    own HTTP client (aiohttp), on connections opened beforehand, with no database, broker or worker."""
    body = json.dumps({"domains": documents}, separators=(",", ":")).encode()
    urls = [node.agent_url + "/v1/config" for node in nodes]

    async def run() -> float:
        semaphore = asyncio.Semaphore(settings.EDGE_PUSH_CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(url: str, body: bytes) -> None:
                headers = signed_headers(KEY, body)
                async with semaphore, session.post(url, data=body, headers=headers) as answer:
                    answer.raise_for_status()
                    await answer.read()

            # The console keeps its connections to the agents open between pushes: so does the floor.
            await asyncio.gather(*(one(url, b'{"domains":[]}') for url in urls))
            start = time.perf_counter()
            await asyncio.gather(*(one(url, body) for url in urls))
            return time.perf_counter() - start

    return asyncio.run(run())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def committed(save: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run `save` (a service call); return its result, and the moment its transaction committed.

    The clocks (perf_counter, and wall time to compare with the simulator's) are read by the first on-commit
    callback, before the service's own (which enqueues delivery).
    """
    moment: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: moment.extend((time.perf_counter(), time.time())))
        change = save()
    return change, moment[0], moment[1]


def measure_batch(fleet: Fleet, user: Any, count: int, size: int, changes: int) -> dict[str, Any]:
    """One batch change of `count` domains (the service of BatchSetCdnDomainConfig) → every one of `size`
    nodes applied every domain (its new revisions no longer outstanding: what the domains' status and
    the "n of N edge nodes" line follow)."""
    nodes = fleet.set_nodes(size)
    context = ChangeContext(user=user)
    names = [f"batch-{n:03}.example.com" for n in range(count)]
    existing = set(Domain.objects.filter(name__in=names).values_list("name", flat=True))
    for name in names:
        if name not in existing:
            domain_create(
                account=user.membership.account,
                name=name,
                product="cdn",
                business_type="web",
                coverage="global",
                origins=[OriginInput(OriginType.DOMAIN, "origin.example.net", 443)],
                context=context,
            )
    domains = list(Domain.objects.filter(name__in=names))
    load_before = load()
    times, floors = [], []
    for n in range(changes + 1):
        for domain in domains:
            domain.refresh_from_db()
        batch, start, _ = committed(
            lambda n=n: origin_sni_update_many(
                domains=domains,
                enabled=True,
                name=f"batch-{size}-{n}-{random.randint(0, 10**9)}.example.net",
                context=context,
            )
        )
        revisions = [change.revision.pk for change in batch]
        while ConfigRevision.objects.filter(pk__in=revisions, outstanding=True).exists():
            if time.perf_counter() > start + 120:
                raise CommandError(f"{count} domains on {size} nodes: not applied in 120 s")
            time.sleep(POLL * 10)
        took = time.perf_counter() - start
        if n:
            times.append(took)
            documents = list(
                ConfigRevision.objects.filter(pk__in=revisions).values_list("document", flat=True)
            )
            floors.append(floor(nodes, documents))
    row = {
        "domains": count,
        "nodes": size,
        "median": statistics.median(times),
        "p95": pct(times, 0.95),
        "floor_median": statistics.median(floors),
        "load": f"{load_before} → {load()}",
        "changes": changes,
    }
    row["line"] = (
        f"{count} domains in one batch on {size} nodes: commit → all applied median "
        f"{row['median'] * 1000:7.1f} ms, p95 {row['p95'] * 1000:7.1f} ms | floor median "
        f"{row['floor_median'] * 1000:7.1f} ms | load {row['load']}"
    )
    return row
