"""Small builders for test data: an account with members, domains with origins and settings, edge nodes."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Account, Membership, Role
from domains.models import (
    Domain,
    Origin,
    OriginFetchSettings,
    OriginType,
    Product,
    ProtocolPolicy,
    VerificationMethod,
    VerifiedRoot,
)
from domains.ownership import root_of
from edge.models import AppliedRevision, ConfigRevision, DeploymentStatus, EdgeNode
from edge.selectors import NodeProgress, delivery_progress
from edge.state import Lagging, record_applied, record_failure

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_account(name: str | None = None) -> Account:
    name = name or f"account-{next(_counter)}"
    return Account.objects.create(name=name, display_name=name.title())


def make_user(username: str, *, account: Account, role: str = Role.OWNER):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, account=account, role=role)
    return user


def make_domain(
    *,
    account: Account,
    name: str | None = None,
    product: str = Product.CDN,
    policy: str = ProtocolPolicy.HTTPS,
    https_port: int = 443,
    origins: list[tuple[str, str, int]] | None = None,
    sni_enabled: bool = False,
    sni_name: str = "",
) -> Domain:
    name = name or f"site-{next(_counter)}.example.com"
    hold_root(account, name)
    domain = Domain.objects.create(account=account, name=name, product=product, cname=f"{name}.w.test.net")
    OriginFetchSettings.objects.create(
        domain=domain,
        forward_scheme=policy,
        https_port=https_port,
        sni_enabled=sni_enabled,
        sni_name=sni_name,
    )
    for kind, address, port in origins or [(OriginType.IPADDR, "203.0.113.10", 443)]:
        Origin.objects.create(domain=domain, type=kind, address=address, port=port)
    return domain


def make_token(user) -> str:  # type: ignore[no-untyped-def]
    """A REST API token of `user` (as `POST /api/v1/auth/token/` issues it)."""
    from api.tokens import api_token_create

    return api_token_create(user=user).key


def make_node(name: str, url: str, *, key: str = "node-key-for-tests") -> EdgeNode:
    return EdgeNode.objects.create(name=name, agent_url=url, signing_key=key)


def hold_root(account: Account, name: str) -> None:
    """The account holds the root of `name`, unless another account already does (as an operator marks it)."""
    root = root_of(name.lower())
    if root is not None and not VerifiedRoot.objects.filter(root=root).exists():
        VerifiedRoot.objects.create(account=account, root=root, method=VerificationMethod.OPERATOR)


def delivery_record(
    domain: Domain, node_name: str, status: str, *, attempts: int = 1, error: str = ""
) -> None:
    """What delivery records when node `node_name` answered (`attempts` times) about the domain's latest
    revision: applied, failed for good, or failed and still pending a retry."""
    number = Domain.objects.values_list("config_revision", flat=True).get(pk=domain.pk)
    revision = ConfigRevision.objects.get(domain_id=domain.pk, number=number)
    node = EdgeNode.objects.get(name=node_name)
    pair = Lagging(node.pk, revision.pk, number, domain.pk)
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        if status == DeploymentStatus.APPLIED and last:
            record_applied([pair], now=timezone.now())
        else:
            final = last and status == DeploymentStatus.FAILED
            record_failure([pair], error or "connection refused", final=final, now=timezone.now())


def deliveries(domain: Domain, number: int | None = None) -> dict[str, NodeProgress]:
    """How revision `number` (by default the latest) of the domain stands on each enabled node, by name."""
    if number is None:
        number = Domain.objects.values_list("config_revision", flat=True).get(pk=domain.pk)
    return {row.node.name: row for row in delivery_progress(domain_id=domain.pk, number=number)[2]}


def node_deliveries(node: EdgeNode) -> set[tuple[str, int, str]]:
    """(domain, revision, status) of what `node` applied, and if enabled of every domain's latest revision."""
    node.refresh_from_db()
    held = {
        (name, number, DeploymentStatus.APPLIED.value)
        for name, number, node_ids in AppliedRevision.objects.values_list(
            "revision__domain__name", "revision__number", "node_ids"
        )
        if node.pk in node_ids
    }
    if not node.enabled:
        return held
    for domain in Domain.objects.filter(config_revision__gt=0):
        row = deliveries(domain)[node.name]
        held.add((domain.name, domain.config_revision, row.status))
    return held
