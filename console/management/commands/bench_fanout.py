"""`manage.py bench_fanout`: propagation time from commit to "all nodes applied", against its floor.

Runs on a dedicated database (its name must contain "bench"): creates N edge nodes served by simulated agents
(one process, many ports), starts real Celery workers on the configured broker, makes Origin SNI changes
through the service the page uses, and times commit → every node applied. Right after each change it
measures the floor (the same payload sent concurrently to the same endpoints by a bare HTTP client), so both
see the same load on a shared machine. Then 100 domains changed at once in one batch (the service of
BatchSetCdnDomainConfig) on 1,000 nodes, commit → every node applied every domain; the 1,000-node cases run
with two Celery worker processes and again with one (a change's delivery is split into tasks over the nodes).

Then, with two real edges (agents that each own an nginx) and an HTTPS origin serving two certificates by
SNI, it times commit → a request through both edges returns the new `X-Config-Revision` (and the origin
certificate the new SNI selects).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.audit import ChangeContext
from accounts.models import Account, Membership, Role
from console.bench_fleet import KEY, POLL, Fleet, committed, floor, load, measure_batch, pct
from domains.models import Domain, OriginType
from domains.origin_services import OriginInput
from domains.root_services import domain_root_mark_verified
from domains.services import domain_create
from edge.models import AppliedRevision, ConfigRevision, EdgeNode, NodeDomainState
from origin_fetch.services import (
    origin_protocol_update,
    origin_sni_update,
    origin_verification_update,
)

BASE_PORT = 21000
# Seconds between checks for "served" through the nginx edges (two HTTP requests through nginx to the origin).
SERVED_POLL = 0.005
NGINX_DOMAIN = "edges.bench.example.com"
NOTES_MARKER = "<!-- Notes below this line are kept by the benchmark command. -->"


class Command(BaseCommand):
    help = "Benchmark edge fan-out for 10, 100 and 1000 nodes against a bare-client floor."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--nodes", default="10,100,1000")
        parser.add_argument("--changes", type=int, default=20)
        parser.add_argument("--output", default="docs/benchmarks/fanout.md")
        parser.add_argument(
            "--batch-domains", type=int, default=100, help="domains of the batch case (0: none)"
        )
        parser.add_argument("--batch-nodes", type=int, default=1000)
        parser.add_argument("--batch-changes", type=int, default=6)
        parser.add_argument(
            "--nginx-edges",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="also time commit → new revision served through two real nginx edges",
        )

    def handle(
        self, *args: Any, nodes: str, changes: int, output: str, nginx_edges: bool, **options: Any
    ) -> None:
        if "bench" not in str(connection.settings_dict["NAME"]):
            raise CommandError("Run on a dedicated database whose name contains 'bench' (see `make bench`).")
        sizes = [int(n) for n in nodes.split(",")]
        batch_domains, batch_nodes = options["batch_domains"], options["batch_nodes"]
        fleet = Fleet(BASE_PORT, max([*sizes, batch_nodes if batch_domains else 0]))
        fleet.start_agents()
        rows, batch_rows = [], []
        edges_row = None
        try:
            domain, user = self._setup()
            for workers in (2, 1):
                fleet.start_workers(workers)
                for size in sizes if workers == 2 else [size for size in sizes if size >= 1000]:
                    rows.append(self._measure(fleet, domain, user, size, changes) | {"workers": workers})
                if batch_domains:
                    batch_rows.append(
                        measure_batch(fleet, user, batch_domains, batch_nodes, options["batch_changes"])
                        | {"workers": workers}
                    )
                    self.stdout.write(batch_rows[-1]["line"])
            fleet.stop()
            if nginx_edges:
                fleet.start_workers(2)
                edges_row = self._measure_nginx_edges(user, changes)
        finally:
            fleet.stop()
            EdgeNode.objects.all().delete()
        self._report(rows, batch_rows, edges_row, changes, output)

    def _setup(self) -> tuple[Domain, Any]:
        EdgeNode.objects.all().delete()
        Domain.objects.filter(name__in=["bench.example.com", NGINX_DOMAIN]).delete()
        # Earlier runs leave dead rows behind faster than autovacuum clears them (an index scan for pending
        # deployments once walked 50,000 dead entries for 130 live rows): start every run from clean tables.
        with connection.cursor() as cursor:
            for model in (NodeDomainState, AppliedRevision, ConfigRevision, EdgeNode, Domain):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        account, _ = Account.objects.get_or_create(name="bench")
        user, _ = get_user_model().objects.get_or_create(username="bench")
        Membership.objects.get_or_create(user=user, defaults={"account": account, "role": Role.OWNER})
        # The benchmark's root, as an operator would mark it verified.
        domain_root_mark_verified(account=account, name="example.com", context=ChangeContext(user=user))
        domain = domain_create(
            account=account,
            name="bench.example.com",
            product="cdn",
            business_type="web",
            coverage="global",
            origins=[OriginInput(OriginType.DOMAIN, "origin.example.net", 443)],
            context=ChangeContext(user=user),
        )
        origin_protocol_update(
            domain=domain, policy="https", http_port=80, https_port=443, context=ChangeContext(user=user)
        )
        return domain, user

    def _measure(self, fleet: Fleet, domain: Domain, user: Any, size: int, changes: int) -> dict[str, Any]:
        nodes = fleet.set_nodes(size)
        load_before = load()
        times, floors = [], []
        phases: list[tuple[float, float, float]] = []
        fleet.arrivals()
        for n in range(changes + 1):
            change, start, wall = committed(
                lambda n=n: origin_sni_update(
                    domain=domain,
                    enabled=True,
                    name=f"origin-{size}-{n}.example.net",
                    context=ChangeContext(user=user),
                )
            )
            revision = change.revision
            assert revision is not None
            deadline = start + 60
            while (
                NodeDomainState.objects.filter(domain=domain, applied_number__gte=revision.number).count()
                < size
            ):
                if time.perf_counter() > deadline:
                    raise CommandError(f"{size} nodes: revision {revision.number} not applied in 60 s")
                time.sleep(POLL)
            took = time.perf_counter() - start
            done = time.time()
            arrived = fleet.arrivals()
            if n:  # the first change warms the worker's connections and caches
                times.append(took)
                phases.append((min(arrived) - wall, max(arrived) - min(arrived), done - max(arrived)))
                # The floor right after, under the same load: the same payload to the same endpoints.
                floors.append(floor(nodes, [revision.document]))
                fleet.arrivals()
        row = {
            "nodes": size,
            "median": statistics.median(times),
            "p95": pct(times, 0.95),
            "floor_median": statistics.median(floors),
            "floor_p95": pct(floors, 0.95),
            "load": f"{load_before} → {load()}",
            "phases": [statistics.median(phase[i] for phase in phases) for i in range(3)],
        }
        row["ratio"] = row["median"] / row["floor_median"]
        self.stdout.write(
            f"{size:>5} nodes: commit → all applied median {row['median'] * 1000:7.1f} ms, "
            f"p95 {row['p95'] * 1000:7.1f} ms | floor median {row['floor_median'] * 1000:7.1f} ms, "
            f"p95 {row['floor_p95'] * 1000:7.1f} ms | {row['ratio']:.2f}× the floor | load {row['load']}\n"
            "       median phases: commit → first push received {:.1f} ms, first → last push {:.1f} ms, "
            "last push → all applied seen {:.1f} ms".format(*(value * 1000 for value in row["phases"]))
        )
        return row

    def _measure_nginx_edges(self, user: Any, changes: int) -> dict[str, Any]:
        """Commit → both real nginx edges serve the new revision (with the certificate its SNI picks)."""
        # Test helpers (trustme certificates, an SNI origin, agents owning nginx): a development install.
        from tests.edge_agent.nginx_support import NAME_A, NAME_B, NginxEdge, Pki, SniOrigin, nginx_program

        program = nginx_program()
        if program is None:
            raise CommandError("nginx is not installed (apt-get install nginx), or pass --no-nginx-edges")
        folder = Path(tempfile.mkdtemp(prefix="bench-edges-"))
        pki = Pki(folder / "pki")
        # Origin SNI needs HTTPS on port 443: the origin takes 443 on a loopback address of its own.
        address = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.1"
        origin = SniOrigin(pki, addresses=(address,))
        origin.port = 443
        edges = [
            NginxEdge(f"nginx-{n}", folder / f"nginx-{n}", KEY, nginx_bin=program, ca_bundle=pki.ca_file)
            for n in (1, 2)
        ]
        try:
            origin.start()
            for edge in edges:
                edge.start()
            EdgeNode.objects.all().delete()
            EdgeNode.objects.bulk_create(
                [EdgeNode(name=edge.name, agent_url=edge.url, signing_key=KEY) for edge in edges]
            )
            context = ChangeContext(user=user)
            Domain.objects.filter(name=NGINX_DOMAIN).delete()
            domain = domain_create(
                account=user.membership.account,
                name=NGINX_DOMAIN,
                product="cdn",
                business_type="web",
                coverage="global",
                origins=[OriginInput(OriginType.IPADDR, address, 443)],
                context=context,
            )
            origin_protocol_update(
                domain=domain, policy="https", http_port=80, https_port=443, context=context
            )
            origin_verification_update(domain=domain, enabled=True, common_names=[], context=context)
            load_before = load()
            times, confirmed = [], []
            for n in range(changes + 1):
                name = (NAME_B, NAME_A)[n % 2]  # each change switches the origin certificate served
                change, start, _ = committed(
                    lambda name=name: origin_sni_update(
                        domain=domain, enabled=True, name=name, context=context
                    )
                )
                revision = change.revision
                assert revision is not None
                wanted = str(revision.number)
                waiting = list(edges)
                while waiting:
                    if time.perf_counter() > start + 60:
                        raise CommandError(f"revision {wanted} not served by {waiting[0].name} in 60 s")
                    waiting = [
                        edge
                        for edge in waiting
                        if edge.get(NGINX_DOMAIN).headers.get("X-Config-Revision") != wanted
                    ]
                    if waiting:
                        time.sleep(SERVED_POLL)
                served = time.perf_counter() - start
                # An agent answers once its old nginx workers take no new connections: from then on every
                # request must get the new revision and the certificate of the new SNI.
                while NodeDomainState.objects.filter(
                    domain=domain, applied_number__gte=revision.number
                ).count() < len(edges):
                    if time.perf_counter() > start + 60:
                        raise CommandError(f"revision {wanted} not applied in 60 s")
                    time.sleep(POLL)
                applied = time.perf_counter() - start
                for edge in edges:
                    for _ in range(3):
                        response = edge.get(NGINX_DOMAIN)
                        got = (response.headers.get("X-Config-Revision"), response.status_code)
                        if got != (wanted, 200) or response.json()["cert"] != name:
                            raise CommandError(f"{edge.name} serves {got}: {response.text[:200]}")
                if n:
                    times.append(served)
                    confirmed.append(applied)
        finally:
            for edge in edges:
                edge.stop()
                edge.kill_nginx()
            origin.stop()
            Domain.objects.filter(name=NGINX_DOMAIN).delete()
            shutil.rmtree(folder, ignore_errors=True)
        row = {
            "edges": len(edges),
            "median": statistics.median(times),
            "p95": pct(times, 0.95),
            "applied_median": statistics.median(confirmed),
            "applied_p95": pct(confirmed, 0.95),
            "load": f"{load_before} → {load()}",
        }
        self.stdout.write(
            f"{len(edges)} nginx edges: commit → new revision served through both median "
            f"{row['median'] * 1000:7.1f} ms, p95 {row['p95'] * 1000:7.1f} ms | both applied in the console "
            f"median {row['applied_median'] * 1000:7.1f} ms, p95 {row['applied_p95'] * 1000:7.1f} ms "
            f"| load {row['load']}"
        )
        return row

    def _report(
        self,
        rows: list[dict[str, Any]],
        batch_rows: list[dict[str, Any]],
        edges_row: dict[str, Any] | None,
        changes: int,
        output: str,
    ) -> None:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Edge fan-out benchmark",
            "",
            f"`make bench-fanout`: {changes} Origin SNI changes per size (after one warm-up change), through",
            f"the page's service, real Celery workers on `{settings.CELERY_BROKER_URL.split(':')[0]}` and "
            f"{connection.vendor}; the clock starts when the",
            "service's transaction commits and stops when the console records every node as having applied",
            f"the revision (checked every {POLL * 1000:.0f} ms). Simulated agents: one process, many ports,",
            "signatures verified. Floor: right after each change, the same payload sent concurrently to the",
            f"same endpoints by a bare httpx client. Machine: {os.cpu_count()} cores, shared with other",
            "work; load average (1 / 5 / 15 min) before → after each size. Celery: the given number of",
            "worker processes (concurrency 1 each, as on as many machines); a change's delivery is split",
            f"into one task per {settings.EDGE_DELIVERY_NODES_PER_TASK} nodes (at most",
            f"{settings.EDGE_DELIVERY_MAX_TASKS}), which the workers take in parallel.",
            "",
            "| nodes | workers | median | p95 | floor median | floor p95 | median / floor | load average |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                f"| {row['nodes']} | {row['workers']} | {row['median'] * 1000:.0f} ms "
                f"| {row['p95'] * 1000:.0f} ms | "
                f"{row['floor_median'] * 1000:.0f} ms | {row['floor_p95'] * 1000:.0f} ms "
                f"| {row['ratio']:.2f}× | {row['load']} |"
            )
        lines += [
            "",
            "Where a change's time goes (medians; wall clock of the console and of the simulator): from the",
            "commit to the first push received (enqueue, worker pickup, loading the lagging pairs,",
            "placing the requests), from the first to the last push received (the fan-out itself), and from",
            "the last push received to the benchmark seeing every node applied (answers, the outcome",
            "written in a few statements, the domain's status, and this benchmark's polling).",
            "",
            "| nodes | workers | commit → first push | first → last push | last push → all applied seen |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            first, spread, after = (value * 1000 for value in row["phases"])
            lines.append(
                f"| {row['nodes']} | {row['workers']} | {first:.0f} ms | {spread:.0f} ms | {after:.0f} ms |"
            )
        if batch_rows:
            lines += [
                "",
                "## Many domains in one batch",
                "",
                f"{batch_rows[0]['changes']} changes (after one warm-up) of Origin SNI on "
                f"{batch_rows[0]['domains']} domains at once, through",
                "the service of BatchSetCdnDomainConfig (one transaction); the clock stops when none of the",
                "new revisions is outstanding any more (every node applied every domain, as the domains'",
                'status and the "n of N edge nodes" line read it; checked every 10 ms). Floor: the same',
                "documents in one body sent to every node by a bare client, right after each change.",
                "",
                "| domains | nodes | workers | median | p95 | floor median | target | load average |",
                "|---|---|---|---|---|---|---|---|",
                *(
                    f"| {row['domains']} | {row['nodes']} | {row['workers']} | {row['median'] * 1000:.0f} ms "
                    f"| {row['p95'] * 1000:.0f} ms | {row['floor_median'] * 1000:.0f} ms | ≤ 3000 ms median "
                    f"| {row['load']} |"
                    for row in batch_rows
                ),
            ]
        if edges_row is not None:
            lines += [
                "",
                "## Two real nginx edges",
                "",
                f"{changes} Origin SNI changes (alternating between the origin's two names) of a domain",
                "whose origin is an HTTPS server on 127.x.y.z:443 presenting one of two certificates by",
                "SNI (trustme CA, verification on); two edge agents, each owning an nginx. The clock starts",
                "when the service's transaction commits. *Served*: a request through **each** edge, with the",
                "domain's Host, returns the new `X-Config-Revision` (checked every "
                f"{SERVED_POLL * 1000:.0f} ms).",
                "*Applied*: the console records both nodes as applied, which an agent reports once nginx's",
                "previous workers take no new connections; then three requests through each edge must all",
                "return the new revision and the origin certificate the new SNI selects.",
                "",
                "| edges | served median | served p95 | applied median | applied p95 | target | load |",
                "|---|---|---|---|---|---|---|",
                f"| {edges_row['edges']} | {edges_row['median'] * 1000:.0f} ms "
                f"| {edges_row['p95'] * 1000:.0f} ms | {edges_row['applied_median'] * 1000:.0f} ms "
                f"| {edges_row['applied_p95'] * 1000:.0f} ms | served ≤ 1000 ms median "
                f"| {edges_row['load']} |",
            ]
        # Notes written by hand below the marker (findings, history) are kept from one run to the next.
        notes = path.read_text().partition(NOTES_MARKER)[2] if path.exists() else ""
        text = "\n".join(lines) + "\n"
        if notes:
            text += "\n" + NOTES_MARKER + notes
        path.write_text(text)
        self.stdout.write(f"Written to {path}")
