"""Changes made while a delivery task waits in the queue join it (edge.pending): real Redis broker, real
Celery worker started afterwards with the reconciler out of the way, real agents."""

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


def test_changes_made_while_a_task_waits_are_delivered_by_that_one_task(edge_agents, alpha, alice):
    client = pending.store()
    domains = [factories.make_domain(account=alpha, name=f"d{n}.alpha.example") for n in range(3)]
    assert delivery_shards(len(edge_agents)) == 1
    client.delete(f"{pending._key(0, 1)}:queued", pending._key(0, 1))  # nothing waits from an earlier test
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
