"""`manage.py bench_pages`: server time of the Domain Names page with 100,000 domains, against the admin.

Runs on a dedicated database (its name must contain "bench"). Seeds one account with N CDN domains by COPY
(once: a second run finds them and reuses them), then requests, in-process through django.test.Client, the
Domain Names page (first and middle pages, each search mode, a status filter, another sort) as the account's
owner, and the Domain admin changelist (first page, a middle page, a search) as a superuser. For each case it
reports the median and p95 of the request's time inside Django (middleware, view, queries, template) and
the number of SQL queries, and writes the table to docs/benchmarks/pages.md.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import Account, Membership, Role
from domains.models import BusinessType, Coverage, Domain, DomainStatus, Product

ACCOUNT = "bench-pages"
OWNER = "bench-pages-owner"
OPERATOR = "bench-pages-operator"
# One in 50 domains is Configuring, one in 200 Disabled: a status filter that selects few rows.
STATUSES = [(200, DomainStatus.OFFLINE), (50, DomainStatus.CONFIGURING)]

HOW = """How the page stays fast (migration `domains/0003_domain_search_indexes`, PostgreSQL only):

- The count of an account's domains, with or without a status filter, is an index-only scan of a partial
  B-tree `(account_id, product, status) WHERE deleted_at IS NULL`.
- A page's ids come from an index-only scan of `(account_id, product, name, id)` (or `created_at` for that
  sort), then only those rows are read (`DomainPaginator`): a middle page skips index entries, not table
  rows, and a page of 100 rows takes the same queries as a page of 20.
- Search: fuzzy `name LIKE '%q%'` uses a pg_trgm GIN index; prefix uses Django's `varchar_pattern_ops`
  index of the name; suffix matches a prefix of `reverse(name)` with a `text_pattern_ops` index; exact uses
  the unique index. A search counts its matches up to 10,000 (past that the page says "More than 10000
  domain names match"), so a search that matches almost every name does not read them all to count them.
- Status labels are translated once per request, not once per row; the membership and its account come in
  one query."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def domain_name(number: int) -> str:
    """Names as customers have them: several per site, sites spread over many registrable domains."""
    kinds = ("www", "img", "static", "api", "video")
    return f"{kinds[number % len(kinds)]}-{number:06d}.shop-{number % 997:03d}.example.com"


class Command(BaseCommand):
    help = "Benchmark the Domain Names page and the Domain admin with 100,000 domains (server time, queries)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--domains", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--output", default="docs/benchmarks/pages.md")

    def handle(self, *args: Any, domains: int, requests: int, output: str, **options: Any) -> None:
        if "bench" not in str(connection.settings_dict["NAME"]):
            raise CommandError("Run on a dedicated database whose name contains 'bench' (see `make bench`).")
        owner, operator = self._seed(domains)
        middle = domains // 2
        name = domain_name(middle)
        site = name.split(".")[1]
        page_cases = [
            ("first page", "", 20),
            ("first page, 100 per page", "size=100", 100),
            ("middle page", f"page={middle // 20}", 20),
            ("middle page, 100 per page", f"page={middle // 100}&size=100", 100),
            ("search, fuzzy", f"q={site}", 20),
            ("search, prefix", f"q={name.split('.')[0][:-2]}&match=prefix", 20),
            ("search, suffix", f"q=.{site}.example.com&match=suffix", 20),
            ("search, exact", f"q={name}&match=exact", 20),
            ("status filter (Disabled)", "status=offline", 20),
            ("status filter (Enabled), middle page", f"status=online&page={middle // 20}", 20),
            ("newest first", "ordering=-created_at", 20),
            ("newest first, middle page", f"ordering=-created_at&page={middle // 20}", 20),
            ("fuzzy search matching every domain", "q=example", 20),
        ]
        admin_cases = [
            ("first page", "", 100),
            ("middle page", f"p={middle // 100}", 100),
            ("search", f"q={site}", 100),
        ]
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        rows = []
        with override_settings(ALLOWED_HOSTS=hosts, STORAGES=storages):
            page = Client()
            page.force_login(owner)
            for label, query, size in page_cases:
                url = f"/cdn/domains/?{query}" if query else "/cdn/domains/"
                rows.append(self._measure(page, "page", label, url, size, requests))
            admin = Client()
            admin.force_login(operator)
            for label, query, size in admin_cases:
                url = f"/admin/domains/domain/?{query}" if query else "/admin/domains/domain/"
                rows.append(self._measure(admin, "admin", label, url, size, requests))
        self._report(rows, domains, requests, output)

    def _seed(self, count: int) -> tuple[Any, Any]:
        users = get_user_model()
        account, _ = Account.objects.get_or_create(name=ACCOUNT, defaults={"display_name": "Bench pages"})
        owner, _ = users.objects.get_or_create(username=OWNER)
        Membership.objects.update_or_create(user=owner, defaults={"account": account, "role": Role.OWNER})
        operator, _ = users.objects.get_or_create(
            username=OPERATOR, defaults={"is_staff": True, "is_superuser": True}
        )
        live = Domain.objects.filter(account=account, deleted_at__isnull=True)
        if live.count() == count and live.filter(name=domain_name(count - 1)).exists():
            self.stdout.write(f"{count} domains already seeded for account {ACCOUNT}.")
            return owner, operator
        started = time.perf_counter()
        with transaction.atomic():
            Domain.objects.filter(account=account).delete()
            self._copy(account, count)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Domain._meta.db_table}")  # noqa: S608 - a table name
        self.stdout.write(f"Seeded {count} domains in {time.perf_counter() - started:.1f} s.")
        return owner, operator

    def _copy(self, account: Account, count: int) -> None:
        """Write the domains with PostgreSQL's COPY: 100,000 rows in a few seconds."""
        now = timezone.now()
        fields = [
            "account_id",
            "name",
            "product",
            "business_type",
            "coverage",
            "cname",
            "status",
            "https_enabled",
            "description",
            "config_revision",
            "created_at",
            "modified_at",
        ]
        buffer = io.StringIO()
        for number in range(count):
            name = domain_name(number)
            status = next((s for every, s in STATUSES if number % every == 0), DomainStatus.ONLINE)
            created = (now - timedelta(minutes=count - number)).isoformat()
            row = [
                str(account.pk),
                name,
                Product.CDN,
                BusinessType.WEB,
                Coverage.DOMESTIC,
                f"{name}.w.cdnconsole.net",
                status,
                "t" if number % 3 == 0 else "f",
                "",
                "0",
                created,
                created,
            ]
            buffer.write("\t".join(row) + "\n")
        columns = ", ".join(connection.ops.quote_name(Domain._meta.get_field(f).column) for f in fields)
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Domain._meta.db_table)
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                copy.write(buffer.getvalue())

    def _measure(
        self, client: Client, where: str, label: str, url: str, size: int, requests: int
    ) -> dict[str, Any]:
        for _ in range(3):  # warm the connection, the templates and PostgreSQL's buffers
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url}: HTTP {response.status_code}")
        reset_queries()  # each request empties the query log; start from an empty one
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        count = len(queries)  # now: the log it reads is emptied by the next request
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - start)
        row = {
            "where": where,
            "case": label,
            "url": url,
            "size": size,
            "median": statistics.median(times),
            "p95": pct(times, 0.95),
            "queries": count,
        }
        median, p95 = row["median"] * 1000, row["p95"] * 1000
        self.stdout.write(
            f"{where:>5} | {label:<36} | median {median:6.1f} ms | p95 {p95:6.1f} ms | {count} queries"
            f" | {url}"
        )
        return row

    def _report(self, rows: list[dict[str, Any]], count: int, requests: int, output: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        admin = {row["case"]: row for row in rows if row["where"] == "admin"}
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Domain Names page benchmark",
            "",
            f"`make bench-pages`: {count:,} CDN domains in one account, PostgreSQL {version},",
            f"{os.cpu_count()} cores (load average {load} at the end of the run).",
            "",
            "**Server time** is the time of one request inside Django: `django.test.Client` in the same",
            "process (middleware, session and user look-ups, view, every SQL query, template rendering; no",
            f"network, no HTTP server), over {requests} requests per case after 3 warm-up requests. The page",
            "is requested as the account's owner; the Django admin's Domain changelist (100 rows a page, its",
            "default) as a superuser. **Queries**: the SQL queries of one request.",
            "Targets of the page: median ≤ 50 ms and p95 ≤ 100 ms in every case, no slower than the admin.",
            "",
            "| where | case | rows | median | p95 | queries | target met | URL |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            met = "yes" if row["median"] <= 0.050 and row["p95"] <= 0.100 else "**no**"
            if row["where"] == "admin":
                met = "(not a target)"
            lines.append(
                f"| {row['where']} | {row['case']} | {row['size']} | {row['median'] * 1000:.1f} ms "
                f"| {row['p95'] * 1000:.1f} ms | {row['queries']} | {met} | `{row['url']}` |"
            )
        pairs = [("first page, 100 per page", "first page"), ("middle page, 100 per page", "middle page")]
        pairs.append(("search, fuzzy", "search"))
        page = {row["case"]: row for row in rows if row["where"] == "page"}
        lines += ["", "Against the admin on the same rows (median, page ÷ admin):", ""]
        for ours, theirs in pairs:
            if ours in page and theirs in admin:
                ratio = page[ours]["median"] / admin[theirs]["median"]
                lines.append(f"- {ours}: {ratio:.2f}× the admin's {theirs}")
        lines += ["", HOW]
        path.write_text("\n".join(lines) + "\n")
        self.stdout.write(f"Written to {path}")
