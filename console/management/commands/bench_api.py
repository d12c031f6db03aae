"""`manage.py bench_api`: throughput and latency of the Alibaba-compatible API under gunicorn.

Runs on a dedicated database (its name must contain "bench"; migrate it first) and the configured Redis
cache. Seeds an account with an owner, 20 CDN domains and a fresh AccessKey, starts gunicorn on a free port
(or uses `--url`), then drives it with concurrent asyncio clients that sign every request on the fly
(ACS3-HMAC-SHA256, a new nonce each time): DescribeCdnDomainConfigs of one domain, and
BatchSetCdnDomainConfig of Origin SNI on all 20 domains, each call a real change (a new SNI name). Prints
requests per second and latency percentiles, and writes them to `docs/benchmarks/api.md`.

    createdb -h 127.0.0.1 -U postgres cdn_console_bench_api
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cdn_console_bench_api \\
        REDIS_URL=redis://127.0.0.1:6379/13 SECRET_KEY=bench
    python manage.py migrate && python manage.py bench_api
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import ChangeContext
from accounts.models import Account, Membership, Role, Source
from alibaba_api import credentials
from alibaba_api.actions import ApiCall, batch_set_domain_configs
from alibaba_api.services import access_key_create, access_key_delete
from alibaba_api.signatures import format_timestamp, sign_v3
from domains.models import Domain, OriginType
from domains.origin_services import OriginInput
from domains.root_services import domain_root_mark_verified
from domains.services import domain_create
from edge.models import EdgeNode

CDN_VERSION = "2018-05-10"
ACCOUNT = "bench-api"
USERNAME = "bench-api-owner"
DOMAINS = 20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Phase:
    name: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


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


class HttpConnection:
    """A lean HTTP/1.1 client connection (keep-alive when the server allows it), so that the load
    generator, which shares the machine with the server, spends as little CPU as possible per call."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
        self.writer.write(("\r\n".join([*lines, "content-length: 0", "", ""])).encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_phase(
    host: str,
    port: int,
    phase: Phase,
    seconds: float,
    make: Any,
    warmup: float,
) -> Phase:
    """Keep `phase.concurrency` calls in flight for `seconds` (after `warmup`), recording each latency."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    deadline = measure_from + seconds

    async def worker() -> None:
        connection = HttpConnection(host, port)
        try:
            while (now := loop.time()) < deadline:
                path, headers = make()
                began = time.perf_counter()
                status, body = await connection.post(path, headers)
                elapsed = time.perf_counter() - began
                if now < measure_from:
                    continue
                if status == 200:
                    phase.latencies.append(elapsed)
                else:
                    code = json.loads(body).get("Code", str(status))
                    phase.errors[code] = phase.errors.get(code, 0) + 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(phase.concurrency)))
    phase.seconds = loop.time() - measure_from
    return phase


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

    def handle(self, *args: Any, **options: Any) -> None:
        if "bench" not in str(connection.settings_dict["NAME"]):
            raise CommandError("Run on a dedicated database whose name contains 'bench' (see the docstring).")
        load_before = os.getloadavg()[0]
        domains = self.seed()
        user = get_user_model().objects.get(username=USERNAME)
        created = access_key_create(user=user)
        server = None
        try:
            if options["url"]:
                base_url = options["url"].rstrip("/")
            else:
                server, base_url = self.start_gunicorn(options["workers"], options["threads"])
            host = base_url.split("://", 1)[1]
            signer = Signer(host, created.access_key.access_key_id, created.secret)
            describe, batch = asyncio.run(self.measure(base_url, signer, domains, options))
            statements = self.count_statements(created.access_key.access_key_id, domains)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            access_key_delete(access_key=created.access_key)
        self.report(
            describe,
            batch,
            options,
            load_before=load_before,
            load_after=os.getloadavg()[0],
            statements=statements,
        )

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

    def count_statements(self, access_key_id: str, domains: list[str]) -> int:
        """SQL statements of one BatchSet of the 20 domains, run in this process on the same data."""
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
        with CaptureQueriesContext(connection) as queries:
            batch_set_domain_configs(call)
        return len(queries)

    def report(
        self,
        describe: Phase,
        batch: Phase,
        options: dict[str, Any],
        *,
        load_before: float,
        load_after: float,
        statements: int,
    ) -> None:
        nodes = EdgeNode.objects.filter(enabled=True).count()
        server = (
            f"an existing console at {options['url']}"
            if options["url"]
            else f"gunicorn, {options['workers']} workers"
            + (f" x {options['threads']} threads (gthread)" if options["threads"] > 1 else " (sync)")
        )
        rows = []
        for phase, target in ((describe, "≥ 500/s, p95 ≤ 50 ms"), (batch, "≥ 30/s")):
            errors = ", ".join(f"{code} x{count}" for code, count in sorted(phase.errors.items())) or "none"
            rate = f"{phase.rate:.0f}" if phase.rate >= 100 else f"{phase.rate:.1f}"
            rows.append(
                f"| {phase.name} | {phase.concurrency} | {len(phase.latencies)} | {rate}/s "
                f"| {phase.ms(0.5):.1f} ms | {phase.ms(0.95):.1f} ms | {phase.ms(0.99):.1f} ms "
                f"| {errors} | {target} |"
            )
        text = "\n".join(
            [
                "# Alibaba-compatible API benchmark",
                "",
                "`manage.py bench_api` (see its docstring): signed ACS3-HMAC-SHA256 calls generated on the "
                "fly (a new nonce each), from lean asyncio HTTP/1.1 clients on the same machine, against "
                f"{server}; database {connection.vendor}, Redis as cache (nonces). "
                f"Each BatchSet turns on Origin SNI with a new name on all {DOMAINS} domains in one "
                "transaction (a revision and an operation log entry per domain). "
                f"Enabled edge nodes in the database: {nodes}. "
                f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; 1-minute load average "
                f"{load_before:.1f} before the run and {load_after:.1f} after it (other processes included). "
                f"Each phase: {options['warmup']:.0f} s warm-up, {options['seconds']:.0f} s measured.",
                "",
                "| call | clients | calls | rate | p50 | p95 | p99 | errors | target |",
                "|---|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                f"One BatchSet of the {DOMAINS} domains runs {statements} SQL statements "
                f"({statements / DOMAINS:.1f} per domain), whatever the number of domains: the shared write "
                "path (`origin_fetch.services.origin_sni_update_many`, which the single-domain "
                "`origin_sni_update` also uses, and `domains.publishing.domain_config_publish_many`) "
                "validates "
                "every domain first, then reads the edge nodes, locks the domains (in id order) with "
                "their settings and latest config documents in one statement, reads the ConfigId each domain "
                "has for the function (and adds the missing ones), updates the settings, reads "
                "the origins, inserts all the revisions, deployments and operation log entries in one "
                "statement each, moves every domain to its new revision in one UPDATE, and enqueues one "
                "delivery task after commit. Concurrent BatchSets of the same domains wait for each other's "
                "row locks, so their rate is about one over the time a batch holds the locks "
                "(each also changes 20 domains, so 20 x the rate domain changes per second). "
                "A DescribeCdnDomainConfigs runs one SQL statement (settings, origins, configured functions "
                "and delivery Status together) and two Redis round trips: the nonce, and the AccessKey's "
                "version stamps (the key is cached in process memory; the stamps make a disabled or deleted "
                "key refused at once).",
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
