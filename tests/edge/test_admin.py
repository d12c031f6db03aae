"""Operators add, disable, enable and delete edge nodes in the admin, and the domains' statuses stay right."""

from __future__ import annotations

import threading

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.urls import reverse

from accounts.audit import ChangeContext
from domains.models import Domain, DomainStatus
from domains.services import domain_delete, domain_disable
from edge.delivery import domain_status_refresh
from edge.models import DeploymentStatus, EdgeNode
from edge.nodes import edge_node_create
from origin_fetch.services import origin_host_update
from tests import factories
from tests.conftest import require, require_postgresql_and_redis
from tests.processes import AgentProcess, wait_for

pytestmark = pytest.mark.django_db

PENDING, APPLIED, FAILED = DeploymentStatus.PENDING, DeploymentStatus.APPLIED, DeploymentStatus.FAILED


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(user)
    return client


def publish(domain: Domain, user, host: str) -> int:  # type: ignore[no-untyped-def]
    """A change by the domain's owner: a new revision; returns its number."""
    change = origin_host_update(domain=domain, host=host, context=ChangeContext(user))
    return change.revision.number


def status_of(domain: Domain) -> str:
    return Domain.objects.values_list("status", flat=True).get(pk=domain.pk)


def owed(node: EdgeNode) -> set[tuple[str, int, str]]:
    return factories.node_deliveries(node)


def settle(domain: Domain, **statuses: str) -> None:
    """What deliveries would have recorded: each named node's deployment of the latest revision."""
    for node_name, status in statuses.items():
        factories.delivery_record(domain, node_name.replace("_", "-"), status)
    domain_status_refresh(domain_ids=[domain.pk])


def domain_revision(domain: Domain) -> int:
    return Domain.objects.values_list("config_revision", flat=True).get(pk=domain.pk)


def add_node(operator, name: str, url: str, *, key: str = "a-signing-key", enabled: bool = True):  # type: ignore[no-untyped-def]
    data = {"name": name, "region": "cn-hangzhou", "agent_url": url, "signing_key": key}
    if enabled:
        data["enabled"] = "on"
    return operator.post(reverse("admin:edge_edgenode_add"), data)


def change_node(operator, node: EdgeNode, **changes):  # type: ignore[no-untyped-def]
    data = {"name": node.name, "region": node.region, "agent_url": node.agent_url, "signing_key": ""}
    data |= {"enabled": "on"} if node.enabled else {}
    data |= changes
    return operator.post(reverse("admin:edge_edgenode_change", args=[node.pk]), data)


def node_action(operator, action: str, *nodes: EdgeNode):  # type: ignore[no-untyped-def]
    return operator.post(
        reverse("admin:edge_edgenode_changelist"),
        {"action": action, "_selected_action": [node.pk for node in nodes]},
        follow=True,
    )


def test_an_added_node_is_owed_every_domains_latest_revision(operator, alice, cdn_domain, dcdn_domain):
    publish(cdn_domain, alice, "a.alpha.example")
    publish(cdn_domain, alice, "b.alpha.example")
    publish(dcdn_domain, alice, "c.alpha.example")
    paused = factories.make_domain(account=cdn_domain.account, name="paused.alpha.example")
    publish(paused, alice, "d.alpha.example")
    domain_disable(domain=paused, context=ChangeContext(alice))
    assert {status_of(cdn_domain), status_of(dcdn_domain)} == {DomainStatus.ONLINE}  # no node yet

    response = add_node(operator, "edge-new", "http://127.0.0.1:9199", key="the-new-nodes-key")
    assert response.status_code == 302

    node = EdgeNode.objects.get(name="edge-new")
    assert (node.enabled, node.signing_key, node.region) == (True, "the-new-nodes-key", "cn-hangzhou")
    assert owed(node) == {
        ("www.alpha.example", 2, PENDING),
        ("dynamic.alpha.example", 1, PENDING),
        ("paused.alpha.example", domain_revision(paused), PENDING),
    }
    assert status_of(cdn_domain) == status_of(dcdn_domain) == DomainStatus.CONFIGURING
    assert status_of(paused) == DomainStatus.OFFLINE
    entry = LogEntry.objects.get(object_id=str(node.pk))
    assert (entry.action_flag, entry.user.get_username()) == (ADDITION, "operator")
    page = operator.get(reverse("admin:edge_edgenode_change", args=[node.pk])).content.decode()
    assert "edge-new" in page and "the-new-nodes-key" not in page


def test_a_node_added_disabled_is_owed_nothing(operator, alice, cdn_domain):
    publish(cdn_domain, alice, "a.alpha.example")
    assert add_node(operator, "edge-spare", "http://127.0.0.1:9199", enabled=False).status_code == 302
    assert owed(EdgeNode.objects.get(name="edge-spare")) == set()
    assert status_of(cdn_domain) == DomainStatus.ONLINE


def test_disabling_a_node_releases_the_domains_waiting_on_it(operator, alice, cdn_domain, dcdn_domain):
    factories.make_node("edge-1", "http://127.0.0.1:9901")
    lagging = factories.make_node("edge-2", "http://127.0.0.1:9902", key="edge-2-key")
    publish(cdn_domain, alice, "a.alpha.example")
    publish(dcdn_domain, alice, "b.alpha.example")
    settle(cdn_domain, edge_1=APPLIED)
    settle(dcdn_domain, edge_1=FAILED)
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING
    assert status_of(dcdn_domain) == DomainStatus.CONFIGURE_FAILED

    response = change_node(operator, lagging, enabled="")
    assert response.status_code == 302

    lagging.refresh_from_db()
    assert (lagging.enabled, lagging.signing_key) == (False, "edge-2-key")  # an empty key field keeps it
    assert status_of(cdn_domain) == DomainStatus.ONLINE
    assert status_of(dcdn_domain) == DomainStatus.CONFIGURE_FAILED  # edge-1 still failed it


def test_disabling_the_only_node_leaves_no_domain_configuring(operator, alice, alpha, cdn_domain):
    node = factories.make_node("edge-1", "http://127.0.0.1:9901")
    publish(cdn_domain, alice, "a.alpha.example")
    gone = factories.make_domain(account=alpha, name="gone.alpha.example")
    publish(gone, alice, "b.alpha.example")
    domain_delete(domain=gone, context=ChangeContext(alice))
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING
    assert Domain.objects.filter(pk=gone.pk).exists()  # until the node drops it

    page = node_action(operator, "disable_nodes", node).content.decode()

    assert "1 edge node disabled." in page
    assert EdgeNode.objects.get(pk=node.pk).enabled is False
    assert status_of(cdn_domain) == DomainStatus.ONLINE
    assert not Domain.objects.filter(pk=gone.pk).exists()  # no enabled node is left to drop it


def test_deleting_a_node_releases_the_domains_waiting_on_it(operator, alice, cdn_domain):
    factories.make_node("edge-1", "http://127.0.0.1:9901")
    doomed = factories.make_node("edge-2", "http://127.0.0.1:9902")
    publish(cdn_domain, alice, "a.alpha.example")
    settle(cdn_domain, edge_1=APPLIED)
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING

    url = reverse("admin:edge_edgenode_delete", args=[doomed.pk])
    confirmation = operator.get(url)
    assert confirmation.status_code == 200 and "Deployments: 1" in confirmation.content.decode()
    response = operator.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not EdgeNode.objects.filter(pk=doomed.pk).exists()
    assert status_of(cdn_domain) == DomainStatus.ONLINE


def test_nodes_deleted_in_bulk_release_their_domains_too(operator, alice, cdn_domain):
    nodes = [factories.make_node(f"edge-{n}", f"http://127.0.0.1:990{n}") for n in (1, 2)]
    publish(cdn_domain, alice, "a.alpha.example")
    operator.post(
        reverse("admin:edge_edgenode_changelist"),
        {"action": "delete_selected", "_selected_action": [n.pk for n in nodes], "post": "yes"},
    )
    assert not EdgeNode.objects.exists()
    assert status_of(cdn_domain) == DomainStatus.ONLINE


def test_a_node_enabled_again_is_owed_what_changed_while_it_was_disabled(operator, alice, cdn_domain):
    factories.make_node("edge-1", "http://127.0.0.1:9901")
    returning = factories.make_node("edge-2", "http://127.0.0.1:9902")
    publish(cdn_domain, alice, "a.alpha.example")
    settle(cdn_domain, edge_1=APPLIED, edge_2=APPLIED)
    node_action(operator, "disable_nodes", returning)
    publish(cdn_domain, alice, "b.alpha.example")
    settle(cdn_domain, edge_1=APPLIED)
    assert status_of(cdn_domain) == DomainStatus.ONLINE
    assert owed(returning) == {("www.alpha.example", 1, APPLIED)}

    page = node_action(operator, "enable_nodes", returning).content.decode()

    assert "1 edge node enabled." in page
    assert owed(returning) == {("www.alpha.example", 1, APPLIED), ("www.alpha.example", 2, PENDING)}
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING


def test_only_operators_manage_edge_nodes(client, alice):
    client.force_login(alice)  # an account owner, not staff
    response = add_node(client, "edge-rogue", "http://127.0.0.1:9199")
    assert (response.status_code, response["Location"]) == (302, "/"), "a customer is sent to the console"
    assert not EdgeNode.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_added_node_receives_every_domain(
    celery_worker, tmp_path, operator, alice, cdn_domain, dcdn_domain
):
    require_postgresql_and_redis()
    publish(cdn_domain, alice, "a.alpha.example")
    publish(cdn_domain, alice, "b.alpha.example")
    publish(dcdn_domain, alice, "c.alpha.example")
    agent = AgentProcess("edge-new", tmp_path / "edge-new", key=f"key-{tmp_path.name}").start()
    try:
        assert add_node(operator, agent.name, agent.url, key=agent.key).status_code == 302

        for domain, revision in ((cdn_domain, 2), (dcdn_domain, 1)):
            held = wait_for(lambda d=domain: agent.held(d.name), what=f"the new node to hold {domain.name}")
            assert held["revision"] == revision
        wait_for(
            lambda: {status_of(cdn_domain), status_of(dcdn_domain)} == {DomainStatus.ONLINE},
            what="the domains to be online again",
        )
    finally:
        agent.stop()


@pytest.mark.django_db(transaction=True)
def test_a_node_added_during_a_domain_change_is_owed_that_change(alice, cdn_domain):
    """The add waits for a change in flight, so the revision it publishes is not missed by the new node."""
    require(connection.vendor == "postgresql", "needs PostgreSQL row locks: set DATABASE_URL=postgres://...")
    publish(cdn_domain, alice, "a.alpha.example")
    in_flight, finish = threading.Event(), threading.Event()

    def change() -> None:
        try:
            with transaction.atomic():
                publish(cdn_domain, alice, "b.alpha.example")  # seen by no node: there is none yet
                in_flight.set()
                finish.wait(20)
        finally:
            connections.close_all()

    def add() -> None:
        try:
            edge_node_create(
                name="edge-new",
                region="",
                agent_url="http://127.0.0.1:9199",
                signing_key="k",
                context=ChangeContext.system(),
            )
        finally:
            connections.close_all()

    changer = threading.Thread(target=change)
    changer.start()
    assert in_flight.wait(20)
    adder = threading.Thread(target=add)
    adder.start()
    wait_for(lambda: waiting_on_a_lock(), what="the node's addition to wait for the domain change")
    finish.set()
    changer.join(20)
    adder.join(20)

    assert owed(EdgeNode.objects.get(name="edge-new")) == {("www.alpha.example", 2, PENDING)}
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_node_added_or_enabled_again_is_sent_what_it_is_owed_once_the_change_commits(
    operator, alice, cdn_domain, monkeypatch, django_capture_on_commit_callbacks
):
    from edge import tasks

    enqueued: list[dict] = []
    monkeypatch.setattr(tasks.deliver_nodes, "delay", lambda **kwargs: enqueued.append(kwargs))
    publish(cdn_domain, alice, "a.alpha.example")

    with django_capture_on_commit_callbacks(execute=True):
        add_node(operator, "edge-new", "http://127.0.0.1:9199")
        node = EdgeNode.objects.get(name="edge-new")
    assert enqueued == [{"node_ids": [node.pk]}]  # now, not at the reconciler's next run

    node_action(operator, "disable_nodes", node)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        node_action(operator, "enable_nodes", node)
    assert enqueued == [{"node_ids": [node.pk]}]
