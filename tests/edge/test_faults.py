"""Delivery under faults: each test ends with every node on the latest revision and no change lost.

Each test has its own Redis server (so it can stop it) and its own Celery worker (so it can kill it), on the
suite's PostgreSQL database, with real agent processes.
"""

from __future__ import annotations

import json
import signal
import time

import httpx
import pytest

from accounts.audit import ChangeContext
from domains.models import Domain, DomainStatus
from edge.models import ConfigRevision, DeploymentStatus
from edge_agent.signing import signed_headers
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.processes import CeleryWorker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECONCILE = 2.0
PUSH_SLACK = 1.0  # seconds for one push round and the database writes after it, on a loaded 2-core machine


@pytest.fixture
def worker(broker):
    process = CeleryWorker(reconcile_interval=RECONCILE, max_retries=3).start()
    yield process
    process.stop()


def set_sni(domain, user, name):
    return origin_sni_update(domain=domain, enabled=True, name=name, context=ChangeContext(user=user))


def converged(agents, domain, revision) -> bool:
    held = [(agent.held(domain.name) or {}).get("revision") for agent in agents]
    applied = sum(
        1 for row in factories.deliveries(domain, revision).values() if row.status == DeploymentStatus.APPLIED
    )
    status = Domain.objects.values_list("status", flat=True).get(pk=domain.pk)
    return held == [revision] * len(agents) and applied == len(agents) and status == DomainStatus.ONLINE


def test_the_worker_killed_in_the_middle_of_a_fan_out(worker, edge_agents, cdn_domain, alice):
    set_sni(cdn_domain, alice, "one.example.com")
    wait_for(lambda: converged(edge_agents, cdn_domain, 1), what="the first change applied")
    # One agent hangs, so the fan-out is still in flight when the worker is killed.
    edge_agents[0].process.send_signal(signal.SIGSTOP)
    set_sni(cdn_domain, alice, "two.example.com")
    time.sleep(0.5)
    worker.stop(signal.SIGKILL)
    edge_agents[0].process.send_signal(signal.SIGCONT)
    set_sni(cdn_domain, alice, "three.example.com")  # saved while no worker runs
    worker.start()
    wait_for(lambda: converged(edge_agents, cdn_domain, 3), timeout=40, what="every node on revision 3")
    for agent in edge_agents:
        assert agent.held(cdn_domain.name)["origin_sni"]["name"] == "three.example.com"


def test_redis_down_for_30_seconds_while_saves_happen(worker, broker, edge_agents, cdn_domain, alice):
    set_sni(cdn_domain, alice, "before.example.com")
    wait_for(lambda: converged(edge_agents, cdn_domain, 1), what="the first change applied")
    broker.stop()
    started = time.monotonic()
    for n in range(3):  # the saves succeed with the broker gone
        change = set_sni(cdn_domain, alice, f"during-{n}.example.com")
        assert change.changed
        time.sleep(2)
    assert Domain.objects.get(pk=cdn_domain.pk).config_revision == 4
    time.sleep(max(0.0, 30 - (time.monotonic() - started)))
    broker.start()
    back = time.monotonic()
    wait_for(
        lambda: converged(edge_agents, cdn_domain, 4), timeout=60, interval=0.05, what="every node on rev. 4"
    )
    took = time.monotonic() - back
    for agent in edge_agents:
        assert agent.held(cdn_domain.name)["origin_sni"]["name"] == "during-2.example.com"
    # Within one reconcile period of Redis coming back (plus the push itself and this test's polling).
    assert took <= RECONCILE + PUSH_SLACK, f"converged {took:.1f} s after Redis came back"


def test_an_agent_down_during_three_changes_then_back(worker, edge_agents, cdn_domain, alice):
    down = edge_agents[1]
    down.stop()
    for n in range(3):
        set_sni(cdn_domain, alice, f"change-{n}.example.com")
    for agent in (edge_agents[0], edge_agents[2]):
        wait_for(lambda a=agent: (a.held(cdn_domain.name) or {}).get("revision") == 3, what=f"{agent.name}")
    assert Domain.objects.get(pk=cdn_domain.pk).status != DomainStatus.ONLINE
    down.start()
    wait_for(lambda: converged(edge_agents, cdn_domain, 3), timeout=40, what="the node back converges")
    assert down.held(cdn_domain.name)["origin_sni"]["name"] == "change-2.example.com"


def test_an_agent_restarted_keeps_its_state_and_needs_no_push(worker, edge_agents, cdn_domain, alice):
    set_sni(cdn_domain, alice, "kept.example.com")
    wait_for(lambda: converged(edge_agents, cdn_domain, 1), what="applied")
    agent = edge_agents[2]
    pushes = agent.status()["pushes"]
    agent.stop(signal.SIGKILL)
    agent.start()
    assert agent.held(cdn_domain.name)["origin_sni"]["name"] == "kept.example.com"
    time.sleep(RECONCILE * 2)
    assert agent.status()["pushes"] == pushes
    assert converged(edge_agents, cdn_domain, 1)


def test_a_replayed_old_push_and_a_push_signed_with_the_wrong_key_change_nothing(
    worker, edge_agents, cdn_domain, alice
):
    set_sni(cdn_domain, alice, "first.example.com")
    wait_for(lambda: converged(edge_agents, cdn_domain, 1), what="the first change applied")
    # A push of revision 1 exactly as the console sends it, recorded by someone on the path.
    first = ConfigRevision.objects.get(domain=cdn_domain, number=1).document
    recorded_body = json.dumps({"domains": [first]}, separators=(",", ":")).encode()
    set_sni(cdn_domain, alice, "second.example.com")
    wait_for(lambda: converged(edge_agents, cdn_domain, 2), what="the second change applied")
    held = [agent.status() for agent in edge_agents]

    newer = dict(first, revision=99, origin_sni={"enabled": True, "name": "evil.example.net"})
    forged_body = json.dumps({"domains": [newer]}).encode()
    for agent in edge_agents:
        url = f"{agent.url}/v1/config"
        recorded = signed_headers(agent.key, recorded_body, now=time.time() - 600)
        old = httpx.post(url, content=recorded_body, headers=recorded)
        assert old.status_code == 401 and "window" in old.json()["error"]

        # Recorded inside the clock window: the old revision is stale, and a second copy is a replay.
        recent = signed_headers(agent.key, recorded_body)
        stale = httpx.post(url, content=recorded_body, headers=recent)
        assert stale.status_code == 200 and stale.json()["results"][0]["status"] == "stale"
        replay = httpx.post(url, content=recorded_body, headers=recent)
        assert replay.status_code == 401 and replay.json()["error"] == "replayed request"

        wrong = httpx.post(url, content=forged_body, headers=signed_headers("not-the-node-key", forged_body))
        assert wrong.status_code == 401 and wrong.json()["error"] == "bad signature"

    assert [agent.status()["domains"] for agent in edge_agents] == [status["domains"] for status in held]
    for agent in edge_agents:
        assert agent.held(cdn_domain.name)["origin_sni"]["name"] == "second.example.com"
    assert converged(edge_agents, cdn_domain, 2)
