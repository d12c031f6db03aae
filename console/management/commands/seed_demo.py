"""Load the demo accounts, users, domains and edge nodes. Safe to run again: it changes nothing existing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.audit import ChangeContext
from accounts.models import Account, Membership, Role
from domains.models import (
    BusinessType,
    Domain,
    DomainStatus,
    Origin,
    OriginFetchSettings,
    OriginType,
    Product,
    ProtocolPolicy,
    VerificationMethod,
    VerifiedRoot,
)
from domains.publishing import domain_config_publish
from edge.models import EdgeNode

DEFAULT_DEMO_PASSWORD = "cdn-demo-2026"  # noqa: S105 (printed by the command; DEMO_PASSWORD overrides)

# name, product, business type, protocol policy, origins (type, address, port)
DEMO_DOMAINS: dict[str, list[tuple[str, str, str, str, list[tuple[str, str, int]]]]] = {
    "demo": [
        (
            "www.example.com",
            Product.CDN,
            BusinessType.WEB,
            ProtocolPolicy.HTTPS,
            # Two HTTPS origins hosted on one IP (203.0.113.10), port 443: the case Origin SNI exists for.
            [
                (OriginType.DOMAIN, "origin-a.example.net", 443),
                (OriginType.DOMAIN, "origin-b.example.net", 443),
            ],
        ),
        (
            "http-only.example.com",
            Product.CDN,
            BusinessType.DOWNLOAD,
            ProtocolPolicy.HTTP,
            [(OriginType.IPADDR, "203.0.113.20", 80)],
        ),
        (
            "oss.example.com",
            Product.CDN,
            BusinessType.WEB,
            ProtocolPolicy.HTTPS,
            [(OriginType.OSS, "demo-assets.oss-cn-hangzhou.aliyuncs.com", 443)],
        ),
        (
            "dynamic.example.com",
            Product.DCDN,
            BusinessType.DYNAMIC,
            ProtocolPolicy.HTTPS,
            [(OriginType.IPADDR, "203.0.113.30", 443)],
        ),
    ],
    "acme": [
        (
            "www.acme.example",
            Product.CDN,
            BusinessType.WEB,
            ProtocolPolicy.HTTPS,
            [(OriginType.DOMAIN, "origin.acme.example", 443)],
        ),
    ],
}
DEMO_ROOTS = {"demo": "example.com", "acme": "acme.example"}
DEMO_USERS = [("demo", "demo", Role.OWNER), ("viewer", "demo", Role.VIEWER), ("acme", "acme", Role.OWNER)]
DEMO_NODES = [
    ("edge-1", "cn-hangzhou", 9101),
    ("edge-2", "cn-shanghai", 9102),
    ("edge-3", "ap-southeast-1", 9103),
]


def cname_for(name: str) -> str:
    return f"{name.replace('*', 'all')}.w.cdnconsole.net"


class Command(BaseCommand):
    help = "Create the demo accounts (demo, acme), users (demo, viewer, acme), domains and three edge nodes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--agents-dir",
            default=str(settings.VAR_DIR / "agents"),
            help="Where to write each edge node's signing key for its local agent (default: var/agents).",
        )

    @transaction.atomic
    def handle(self, *args: Any, agents_dir: str, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        accounts = {
            name: Account.objects.get_or_create(name=name, defaults={"display_name": name.title()})[0]
            for name in DEMO_DOMAINS
        }
        User = get_user_model()
        for username, account, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
            Membership.objects.get_or_create(user=user, defaults={"account": accounts[account], "role": role})

        # The demo's root domains are verified, as an operator marks them in the admin.
        for account_name, root in DEMO_ROOTS.items():
            VerifiedRoot.objects.get_or_create(
                root=root, defaults={"account": accounts[account_name], "method": VerificationMethod.OPERATOR}
            )

        new_domains = []
        for account_name, domains in DEMO_DOMAINS.items():
            for name, product, business_type, policy, origins in domains:
                domain, created = Domain.objects.get_or_create(
                    name=name,
                    defaults={
                        "account": accounts[account_name],
                        "product": product,
                        "business_type": business_type,
                        "cname": cname_for(name),
                        "status": DomainStatus.ONLINE,
                        "https_enabled": policy == ProtocolPolicy.HTTPS,
                    },
                )
                if not created:
                    continue
                OriginFetchSettings.objects.create(domain=domain, forward_scheme=policy)
                for kind, address, port in origins:
                    Origin.objects.create(domain=domain, type=kind, address=address, port=port)
                new_domains.append(domain)

        keys_dir = Path(agents_dir)
        for name, region, port in DEMO_NODES:
            node, _created = EdgeNode.objects.get_or_create(
                name=name, defaults={"region": region, "agent_url": f"http://127.0.0.1:{port}"}
            )
            key_file = keys_dir / name / "key"
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(node.signing_key)
        # Each new domain's first revision, delivered to the edge nodes once a worker runs.
        for domain in new_domains:
            domain_config_publish(domain=domain, context=ChangeContext.system(), summary="Domain added")
        self.stdout.write(
            f"Demo data ready: users demo (owner), viewer (viewer), acme (owner); password from DEMO_PASSWORD"
            f"{'' if os.environ.get('DEMO_PASSWORD') else f' (default: {DEFAULT_DEMO_PASSWORD})'}."
        )
