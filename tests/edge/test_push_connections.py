"""A worker keeps its connections to the agents from one push round to the next (edge.push._Pusher).

Real worker, real agents: an agent restarted between two changes (its kept connection is dead) still gets the
next change at the first attempt, and nothing is recorded against it.
"""

from __future__ import annotations

import pytest

from accounts.audit import ChangeContext
from domains.models import Domain, DomainStatus
from edge.models import DeploymentStatus, EdgeNode
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.conftest import require_postgresql_and_redis
from tests.processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_services():
    require_postgresql_and_redis()


def applied_everywhere(domain: Domain, number: int) -> bool:
    statuses = [row.status for row in factories.deliveries(domain, number).values()]
    return len(statuses) == 3 and set(statuses) == {DeploymentStatus.APPLIED}


def test_an_agent_restarted_between_changes_gets_the_next_ones_at_the_first_attempt(
    celery_worker, edge_agents, cdn_domain, alice
):
    context = ChangeContext(user=alice)
    names = ["first.example.com", "second.example.com", "third.example.com", "fourth.example.com"]
    for name in names[:2]:  # both worker processes are likely to hold connections to every agent now
        change = origin_sni_update(domain=cdn_domain, enabled=True, name=name, context=context)
        number = change.revision.number
        wait_for(lambda n=number: applied_everywhere(cdn_domain, n), what=f"revision {number} applied")

    restarted = edge_agents[0]
    restarted.stop()
    restarted.start()

    for name in names[2:]:
        change = origin_sni_update(domain=cdn_domain, enabled=True, name=name, context=context)
        number = change.revision.number
        wait_for(lambda n=number: applied_everywhere(cdn_domain, n), what=f"revision {number} applied")
        rows = factories.deliveries(cdn_domain, number).items()
        attempts = [(name, row.attempts) for name, row in rows]
        assert sorted(attempts) == [(agent.name, 1) for agent in edge_agents]
        assert restarted.held(cdn_domain.name)["origin_sni"] == {"enabled": True, "name": name}
    wait_for(
        lambda: Domain.objects.get(pk=cdn_domain.pk).status == DomainStatus.ONLINE, what="the domain online"
    )
    assert list(EdgeNode.objects.values_list("last_error", flat=True)) == ["", "", ""]
