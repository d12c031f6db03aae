"""Changes made while a delivery task waits in the queue join it (edge.pending): a real Redis broker of the
test's own (the suite's worker must not take its tasks), a real Celery worker started afterwards with the
reconciler out of the way, real agents."""

from __future__ import annotations

import pytest

from accounts.audit import ChangeContext
from edge import pending
from edge.tasks import delivery_shards
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.conftest import require_postgresql_and_redis
from tests.processes import CeleryWorker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE = "celery"  # Celery's default queue: a list in the broker's Redis


@pytest.fixture(autouse=True)
def _real_services():
    require_postgresql_and_redis()


def test_changes_made_while_a_task_waits_are_delivered_by_that_one_task(broker, edge_agents, alpha, alice):
    client = pending.store()
    assert client.connection_pool.connection_kwargs["port"] == broker.port
    domains = [factories.make_domain(account=alpha, name=f"d{n}.alpha.example") for n in range(3)]
    assert delivery_shards(len(edge_agents)) == 1
    queued = client.llen(QUEUE)

    for n, domain in enumerate(domains * 2):  # six changes, no worker running
        origin_sni_update(domain=domain, enabled=True, name=f"o{n}.example.net", context=ChangeContext(alice))

    assert client.llen(QUEUE) - queued == 1, "one task waits for the six changes"
    assert client.smembers(pending._key(0, 1)) == {str(domain.pk).encode() for domain in domains}

    worker = CeleryWorker(reconcile_interval=3600).start()  # the reconciler does not run meanwhile
    try:
        for agent in edge_agents:
            for n, domain in enumerate(domains):
                held = wait_for(lambda a=agent, d=domain: a.held(d.name), what=f"{agent.name} holds {domain}")
                assert (held["revision"], held["origin_sni"]["name"]) == (2, f"o{n + 3}.example.net")
        assert client.smembers(pending._key(0, 1)) == set(), "what was delivered left the pending set"
        assert [agent.status()["pushes"] for agent in edge_agents] == [1, 1, 1], "one push per node"

        # The queued task has started: the next change queues a task of its own, and it is delivered.
        origin_sni_update(
            domain=domains[0], enabled=True, name="later.example.net", context=ChangeContext(alice)
        )
        wait_for(
            lambda: all((a.held(domains[0].name) or {}).get("revision") == 3 for a in edge_agents),
            what="the later change on every node",
        )
    finally:
        worker.stop()


def test_a_domain_changed_again_while_its_task_runs_is_left_for_the_next_task(broker):
    client = pending.store()
    key = pending._key(0, 1)

    assert pending.join(client, [1, 2], 1) == [0], "none queued: the first change queues a task"
    assert pending.join(client, [2, 3], 1) == [], "a task waits: the next change joins it"
    assert pending.take(client, 0, 1, "t1") == [1, 2, 3]
    assert pending.join(client, [2], 1) == [0], "the task has started: a change queues the next one"
    pending.done(client, 0, 1, "t1")
    assert pending.take(client, 0, 1, "t2") == [2], "what changed during the first task is still pending"
    pending.done(client, 0, 1, "t2")

    # A worker killed before it was done: the same message, delivered again, takes its domains again.
    pending.join(client, [5], 1)
    assert pending.take(client, 0, 1, "t3") == [5]
    pending.join(client, [6], 1)
    assert pending.take(client, 0, 1, "t3") == [5, 6]
    pending.done(client, 0, 1, "t3")
    assert client.keys(f"{key}*") == [], "nothing is left behind"
