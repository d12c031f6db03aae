"""`manage.py bench_api`: throughput and latency of the Alibaba-compatible API under gunicorn.

Runs on a dedicated database (its name must contain "bench"; migrate it first) and the configured Redis
cache. Seeds an account with an owner, 20 CDN domains and a fresh AccessKey, starts gunicorn on a free port
(or uses `--url`), then drives it with concurrent asyncio clients that sign every request on the fly
(ACS3-HMAC-SHA256, a new nonce each time): DescribeCdnDomainConfigs of one domain, and
BatchSetCdnDomainConfig of Origin SNI on all 20 domains, each call a real change (a new SNI name). Runs once
per number of enabled edge nodes (`--nodes`, default 0 and 1,000): with nodes, simulated agents
(`console.bench_fleet`) and Celery worker processes (`--delivery-workers`, default one: the console, the
workers, the agents and PostgreSQL share the machine's cores) deliver every change meanwhile. Prints requests
per second and latency percentiles for each, and writes them to `docs/benchmarks/api.md`.

    createdb -h 127.0.0.1 -U postgres cdn_console_bench_api
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdn_console_bench_api \\
        REDIS_URL=redis://127.0.0.1:6379/13 SECRET_KEY=bench
    python manage.py migrate && python manage.py bench_api
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.audit import ChangeContext
from accounts.models import Account, Membership, Role, Source
from alibaba_api import credentials
from alibaba_api.actions import ApiCall, batch_set_domain_configs
from alibaba_api.services import access_key_create, access_key_delete
from alibaba_api.signatures import format_timestamp, sign_v3
from console.bench_fleet import Fleet
from console.bench_http import HttpConnection, Phase, free_port, run_phase
from domains.models import Domain, OriginFetchSettings, OriginType
from domains.origin_services import OriginInput
from domains.root_services import domain_root_mark_verified
from domains.services import domain_create
from edge.models import ConfigRevision, EdgeNode, NodeDomainState

CDN_VERSION = "2018-05-10"
ACCOUNT = "bench-api"
USERNAME = "bench-api-owner"
DOMAINS = 20
BASE_PORT = 23000


class Signer:
    """Signs calls as the SDK does: every header signed, a new nonce and date per request."""

    def __init__(self, host: str, access_key_id: str, secret: str) -> None:
        self.host = host
        self.access_key_id = access_key_id
        self.secret = secret

    def request(self, action: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        headers = {
            "host": self.host,
            "x-acs-action": action,
            "x-acs-version": CDN_VERSION,
            "x-acs-date": format_timestamp(datetime.now(UTC)),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "accept": "application/json",
        }
        headers |= sign_v3(
            method="POST",
            path="/",
            query=params,
            headers=headers,
            body=b"",
            access_key_id=self.access_key_id,
            secret=self.secret,
        )
        return "/?" + urlencode(params), headers


def sni_functions(name: str) -> str:
    return (
        '[{"functionName":"https_origin_sni","functionArgs":[{"argName":"enabled","argValue":"on"},'
        f'{{"argName":"https_origin_sni","argValue":"{name}"}}]}}]'
    )


class Command(BaseCommand):
    help = "Benchmark DescribeCdnDomainConfigs and BatchSetCdnDomainConfig (20 domains) under gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="an already running console; default: start gunicorn")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
        parser.add_argument("--seconds", type=float, default=15.0, help="measured duration of each phase")
        parser.add_argument("--warmup", type=float, default=2.0)
        parser.add_argument("--concurrency", type=int, default=8, help="concurrent Describe clients")
        parser.add_argument("--batch-concurrency", type=int, default=2, help="concurrent BatchSet clients")
        parser.add_argument("--output", default="docs/benchmarks/api.md")
        parser.add_argument("--nodes", default="0,1000", help="enabled simulated edge nodes, one run each")
        parser.add_argument(
            "--delivery-workers",
            type=int,
            default=1,
            help="Celery worker processes delivering to the nodes (on the same cores as the console)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if "bench" not in str(connection.settings_dict["NAME"]):
            raise CommandError("Run on a dedicated database whose name contains 'bench' (see the docstring).")
        counts = [int(n) for n in options["nodes"].split(",")]
        domains = self.seed()
        user = get_user_model().objects.get(username=USERNAME)
        created = access_key_create(user=user)
        fleet = Fleet(BASE_PORT, max(counts))
        server = None
        results = []
        try:
            if options["url"]:
                base_url = options["url"].rstrip("/")
            else:
                server, base_url = self.start_gunicorn(options["workers"], options["threads"])
            host = base_url.split("://", 1)[1]
            signer = Signer(host, created.access_key.access_key_id, created.secret)
            for count in counts:
                fleet.set_nodes(count)
                if count:  # simulated agents, and Celery workers delivering every change to them
                    fleet.start_agents()
                    fleet.start_workers(options["delivery_workers"])
                load_before = os.getloadavg()[0]
                describe, batch = asyncio.run(self.measure(base_url, signer, domains, options))
                statements, rows = self.count_statements(created.access_key.access_key_id, domains)
                load_after = os.getloadavg()[0]
                caught_up = self.caught_up() if count else 0.0
                fleet.stop_workers()
                results.append(
                    {
                        "nodes": count,
                        "describe": describe,
                        "batch": batch,
                        "statements": statements,
                        "rows": rows,
                        "load": (load_before, load_after),
                        "caught_up": caught_up,
                    }
                )
        finally:
            fleet.stop()
            EdgeNode.objects.all().delete()
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            access_key_delete(access_key=created.access_key)
        self.report(results, options)

    def caught_up(self) -> float:
        """Seconds after the BatchSet phase until every node applied every domain (the workers' backlog)."""
        start = time.perf_counter()
        while ConfigRevision.objects.filter(outstanding=True).exists():
            if time.perf_counter() - start > 300:
                return float("inf")
            time.sleep(0.1)
        return time.perf_counter() - start

    def seed(self) -> list[str]:
        account, _ = Account.objects.get_or_create(name=ACCOUNT, defaults={"display_name": "API benchmark"})
        user, made = get_user_model().objects.get_or_create(username=USERNAME)
        if made:
            user.set_unusable_password()
            user.save()
        Membership.objects.update_or_create(user=user, defaults={"account": account, "role": Role.OWNER})
        # The benchmark's root, as an operator would mark it verified.
        domain_root_mark_verified(account=account, name="bench.example", context=ChangeContext.system())
        names = [f"api-{index:02}.bench.example" for index in range(DOMAINS)]
        existing = set(Domain.objects.filter(name__in=names).values_list("name", flat=True))
        for index, name in enumerate(names):
            if name not in existing:
                domain_create(
                    account=account,
                    name=name,
                    product="cdn",
                    business_type="web",
                    coverage="domestic",
                    origins=[OriginInput(type=OriginType.IPADDR, address=f"203.0.113.{index + 1}", port=443)],
                    context=ChangeContext.system(),
                )
        # Earlier runs leave dead rows behind faster than autovacuum clears them (every call of a run is a
        # change): start each run from tables vacuumed and analysed, so that runs compare.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Domain, ConfigRevision, NodeDomainState, EdgeNode, OriginFetchSettings):
                    cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        return names

    def start_gunicorn(self, workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "console.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        if threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(threads)]
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "DEBUG": "false",
            "STATIC_MANIFEST": "false",
        }
        server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                # An unsigned call: the API answers IncompleteSignature once a worker is up.
                if httpx.post(f"{base_url}/?Action=DescribeUserDomains", timeout=1).status_code == 400:
                    return server, base_url
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise CommandError("gunicorn exited at start.")
            time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not answer within 30 s.")

    async def measure(
        self, base_url: str, signer: Signer, domains: list[str], options: dict[str, Any]
    ) -> tuple[Phase, Phase]:
        counter = itertools.count()
        joined = ",".join(domains)

        def batch_set() -> tuple[str, dict[str, str]]:
            name = f"origin-{next(counter)}-{uuid.uuid4().hex[:6]}.example.com"
            return signer.request(
                "BatchSetCdnDomainConfig", {"DomainNames": joined, "Functions": sni_functions(name)}
            )

        def describe() -> tuple[str, dict[str, str]]:
            return signer.request("DescribeCdnDomainConfigs", {"DomainName": random.choice(domains)})

        host, _, port = base_url.split("://", 1)[1].partition(":")
        probe = HttpConnection(host, int(port or 80))
        status, body = await probe.post(*batch_set())
        await probe.close()
        if status != 200:
            raise CommandError(f"The first BatchSet failed: {body.decode()}")
        seconds, warmup = options["seconds"], options["warmup"]
        describe_phase = await run_phase(
            host,
            int(port or 80),
            Phase("DescribeCdnDomainConfigs", options["concurrency"]),
            seconds,
            describe,
            warmup,
        )
        batch_phase = await run_phase(
            host,
            int(port or 80),
            Phase("BatchSetCdnDomainConfig (20 domains)", options["batch_concurrency"]),
            seconds,
            batch_set,
            warmup,
        )
        return describe_phase, batch_phase

    def count_statements(self, access_key_id: str, domains: list[str]) -> tuple[int, int]:
        """SQL statements of one BatchSet of the 20 domains, run in this process on the same data, and the
        rows it writes (inserted, updated or deleted, PostgreSQL's counts of its transaction)."""
        credential = credentials.credential_for(access_key_id)
        assert credential is not None
        call = ApiCall(
            params={
                "DomainNames": ",".join(domains),
                "Functions": sni_functions(f"count-{uuid.uuid4().hex}.example.com"),
            },
            credential=credential,
            context=ChangeContext(user=credential.user, source=Source.OPENAPI),
            product="cdn",
        )
        with transaction.atomic(), connection.cursor() as cursor:
            written = (
                "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
            )
            cursor.execute(written)
            before = int(cursor.fetchone()[0])
            with CaptureQueriesContext(connection) as queries:
                batch_set_domain_configs(call)
            cursor.execute(written)
            rows = int(cursor.fetchone()[0]) - before
        return len(queries), rows

    def report(self, results: list[dict[str, Any]], options: dict[str, Any]) -> None:
        server = (
            f"an existing console at {options['url']}"
            if options["url"]
            else f"gunicorn, {options['workers']} workers"
            + (f" x {options['threads']} threads (gthread)" if options["threads"] > 1 else " (sync)")
        )
        rows = []
        for result in results:
            for phase, target in (
                (result["describe"], "≥ 500/s, p95 ≤ 50 ms"),
                (result["batch"], "≥ 30/s, p95 ≤ 200 ms"),
            ):
                errors = ", ".join(f"{code} x{n}" for code, n in sorted(phase.errors.items())) or "none"
                rate = f"{phase.rate:.0f}" if phase.rate >= 100 else f"{phase.rate:.1f}"
                rows.append(
                    f"| {result['nodes']} | {phase.name} | {phase.concurrency} | {len(phase.latencies)} "
                    f"| {rate}/s | {phase.ms(0.5):.1f} ms | {phase.ms(0.95):.1f} ms "
                    f"| {phase.ms(0.99):.1f} ms "
                    f"| {errors} | {target} | {result['load'][0]:.1f} → {result['load'][1]:.1f} |"
                )
        writes = [
            f"| {r['nodes']} | {r['statements']} | {r['rows']} | "
            + (f"{r['caught_up']:.1f} s |" if r["nodes"] else "— |")
            for r in results
        ]
        text = "\n".join(
            [
                "# Alibaba-compatible API benchmark",
                "",
                "`manage.py bench_api` (see its docstring): signed ACS3-HMAC-SHA256 calls generated on the "
                "fly (a new nonce each), from lean asyncio HTTP/1.1 clients on the same machine, against "
                f"{server}; database {connection.vendor}, Redis as cache (nonces) and broker. "
                f"Each BatchSet turns on Origin SNI with a new name on all {DOMAINS} domains in one "
                "transaction (a revision and an operation log entry per domain). "
                "Run once per number of enabled edge nodes: with nodes, each is a simulated agent "
                "(`edge.benchsim`, one process, many ports) and "
                f"{options['delivery_workers']} Celery worker process(es) deliver every "
                "change to them while the calls are measured (on the same machine and cores). "
                f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; 1-minute load average "
                "before → after each run (other processes included). "
                f"Each phase: {options['warmup']:.0f} s warm-up, {options['seconds']:.0f} s measured.",
                "",
                "| enabled nodes | call | clients | calls | rate | p50 | p95 | p99 | errors | target "
                "| load |",
                "|---|---|---|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                f"What one BatchSet of the {DOMAINS} domains writes, and how long after the BatchSet phase "
                "every node had applied every domain (the workers' backlog of deliveries, coalesced):",
                "",
                "| enabled nodes | SQL statements | rows written | all nodes caught up after the phase |",
                "|---|---|---|---|",
                *writes,
                "",
                "The rows written do not depend on the number of edge nodes: a change writes its revisions "
                "(and clears the outstanding mark of the previous ones), the settings, the domains and the "
                "operation log entries; what each node must hold is implicit (the latest revision of each "
                "domain), and what it acknowledged is written by delivery, one row per (domain, node) "
                "(`edge.models.NodeDomainState`). The shared write path "
                "(`origin_fetch.services.origin_sni_update_many`, which the single-domain "
                "`origin_sni_update` also uses, and `domains.publishing.domain_config_publish_many`) "
                "validates every domain first, then counts the enabled edge nodes, locks the domains (in "
                "id order) with their settings and latest config documents in one statement, reads the "
                "ConfigId each domain has for the function (and adds the missing ones), updates the "
                "settings, reads the origins, inserts all the revisions and operation log entries in one "
                "statement each, moves every domain to its new revision in one UPDATE, and enqueues a "
                "bounded number of delivery tasks after commit (one per "
                f"{settings.EDGE_DELIVERY_NODES_PER_TASK} enabled nodes, at most "
                f"{settings.EDGE_DELIVERY_MAX_TASKS}). Concurrent BatchSets of the same domains wait for "
                "each other's row locks. A DescribeCdnDomainConfigs runs one SQL statement (settings, "
                "origins, configured functions and delivery Status together: nothing to count once the "
                "latest revision is applied everywhere, else one pass over the domain's per-node states) "
                "and two Redis round trips: the nonce, and the AccessKey's version stamps.",
                "",
            ]
        )
        self.stdout.write(text)
        output = Path(options["output"])
        if not output.is_absolute():
            output = Path(settings.BASE_DIR) / output
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        self.stdout.write(f"Written to {output}")
