"""The save → commit → Celery → agent path: real PostgreSQL, Redis, Celery worker and agent processes."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from accounts.audit import ChangeContext
from domains.models import Domain, DomainStatus
from edge.models import AppliedRevision, DeploymentStatus, NodeDomainState
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.conftest import require_postgresql_and_redis
from tests.processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_services():
    require_postgresql_and_redis()


def status_of(domain: Domain) -> str:
    return Domain.objects.values_list("status", flat=True).get(pk=domain.pk)


def set_sni(domain, user, name, enabled=True):
    return origin_sni_update(domain=domain, enabled=enabled, name=name, context=ChangeContext(user=user))


def test_a_saved_sni_reaches_every_agent_and_the_domain_comes_back_online(
    celery_worker, edge_agents, cdn_domain, alice
):
    change = set_sni(cdn_domain, alice, "origin.example.com")
    assert status_of(cdn_domain) == DomainStatus.CONFIGURING

    for agent in edge_agents:
        held = wait_for(lambda a=agent: a.held(cdn_domain.name), what=f"{agent.name} to hold the domain")
        assert held["revision"] == change.revision.number
        assert held["origin_sni"] == {"enabled": True, "name": "origin.example.com"}
    wait_for(lambda: status_of(cdn_domain) == DomainStatus.ONLINE, what="the domain to be online")
    assert {row.status for row in factories.deliveries(cdn_domain).values()} == {DeploymentStatus.APPLIED}


def test_an_agent_that_is_down_keeps_the_domain_from_online_until_it_is_back(
    celery_worker, edge_agents, cdn_domain, alice, client
):
    down = edge_agents[2]
    down.stop()
    change = set_sni(cdn_domain, alice, "origin.example.com")

    for agent in edge_agents[:2]:
        wait_for(
            lambda a=agent: (a.held(cdn_domain.name) or {}).get("revision") == 1, what=f"{agent.name} applied"
        )
    deployment = wait_for(
        lambda: (
            NodeDomainState.objects.filter(
                domain=cdn_domain, node__name=down.name, number=change.revision.number
            )
            .exclude(last_error="")
            .first()
        ),
        what="the failure to be recorded for the node that is down",
    )
    assert "unreachable" in deployment.last_error.lower()
    assert status_of(cdn_domain) in (DomainStatus.CONFIGURING, DomainStatus.CONFIGURE_FAILED)

    client.force_login(alice)
    page = client.get(
        reverse("domains:status", kwargs={"product": "cdn", "name": cdn_domain.name})
    ).content.decode()
    assert "2 of 3 edge nodes" in page and down.name in page and "unreachable" in page.lower()

    down.start()  # nobody acts: the retries or the reconciler deliver
    wait_for(
        lambda: (down.held(cdn_domain.name) or {}).get("revision") == 1, timeout=30, what="the node converges"
    )
    wait_for(lambda: status_of(cdn_domain) == DomainStatus.ONLINE, what="the domain to be online")


def test_a_save_that_changes_nothing_sends_nothing(celery_worker, edge_agents, cdn_domain, alice):
    set_sni(cdn_domain, alice, "origin.example.com")
    wait_for(lambda: status_of(cdn_domain) == DomainStatus.ONLINE, what="the first change applied")
    pushes_before = [agent.status()["pushes"] for agent in edge_agents]
    assert pushes_before == [1, 1, 1]

    change = set_sni(cdn_domain, alice, "ORIGIN.example.com.")  # the same name, once normalised
    assert change.changed is False and change.revision is None
    assert Domain.objects.get(pk=cdn_domain.pk).config_revision == 1
    history = [node_id for row in AppliedRevision.objects.all() for node_id in row.node_ids]
    assert NodeDomainState.objects.count() == len(history) == 3
    time.sleep(2.5)  # more than two reconcile periods of the worker: nothing is sent on their account either
    assert [agent.status()["pushes"] for agent in edge_agents] == pushes_before
