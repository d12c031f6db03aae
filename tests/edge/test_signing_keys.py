"""Edge signing keys at rest and in rotation: sealed in the database, and a rotation done while changes fan
out to real agents loses no push (no agent refuses one)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.audit import ChangeContext
from domains.models import Domain, DomainStatus
from edge.keys import (
    edge_node_key_rotation_cancel,
    edge_node_key_rotation_finish,
    edge_node_key_rotation_start,
    node_signing_keys,
)
from edge.models import DeploymentStatus, EdgeNode, NodeDomainState
from edge_agent.signing import read_headers
from origin_fetch.services import origin_host_update
from tests.conftest import require_postgresql_and_redis
from tests.factories import make_node
from tests.processes import ROOT, AgentProcess, wait_for


def stored_keys() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT signing_key, next_signing_key FROM edge_edgenode ORDER BY id")
        return list(cursor.fetchall())


@pytest.mark.django_db
def test_a_signing_key_is_sealed_in_the_database() -> None:
    node = make_node("edge-s", "http://127.0.0.1:9", key="the-clear-signing-key")
    assert EdgeNode.objects.get(pk=node.pk).signing_key == "the-clear-signing-key"
    [(sealed, following)] = stored_keys()
    assert "the-clear-signing-key" not in sealed and sealed.startswith("gAAAA") and following == ""
    generated = EdgeNode.objects.create(name="edge-g", agent_url="http://127.0.0.1:8")
    assert generated.signing_key not in str(stored_keys())


@pytest.mark.django_db
def test_a_rotation_signs_with_both_keys_until_it_finishes_or_is_cancelled() -> None:
    node = make_node("edge-r", "http://127.0.0.1:9", key="old-key")
    new = edge_node_key_rotation_start(node=node, context=ChangeContext.system())
    assert node_signing_keys([node.pk]) == {node.pk: ("old-key", new)}
    assert new not in str(stored_keys())
    with pytest.raises(ValidationError, match="does not accept the new key yet"):
        edge_node_key_rotation_finish(node=node, context=ChangeContext.system())  # no agent at that URL
    edge_node_key_rotation_cancel(node=node, context=ChangeContext.system())
    assert node_signing_keys([node.pk]) == {node.pk: ("old-key",)}
    with pytest.raises(ValidationError, match="No key rotation is under way"):
        edge_node_key_rotation_finish(node=node, context=ChangeContext.system())


def status_of(domain: Domain) -> str:
    return Domain.objects.values_list("status", flat=True).get(pk=domain.pk)


class LoggedAgent(AgentProcess):
    """An agent whose log is kept in a file, to read which requests it refused."""

    def start(self) -> LoggedAgent:
        self.log = self.state_dir / "agent.log"
        command = [
            sys.executable,
            "-m",
            "edge_agent",
            "--name",
            self.name,
            "--listen",
            f"127.0.0.1:{self.port}",
        ]
        command += ["--state-dir", str(self.state_dir), "--key-file", str(self.key_file)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stderr=log)
        wait_for(
            lambda: httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200, what=f"{self.name} up"
        )
        return self


@pytest.fixture
def agents(tmp_path, transactional_db):  # type: ignore[no-untyped-def]
    started = []
    for index in range(1, 4):
        agent = LoggedAgent(f"edge-{index}", tmp_path / f"edge-{index}", key=f"old-key-{index}").start()
        started.append(agent)
        make_node(agent.name, agent.url, key=agent.key)
    yield started
    for agent in started:
        agent.stop()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_rotating_every_nodes_key_during_a_fan_out_loses_no_push(celery_worker, agents, cdn_domain, alice):
    require_postgresql_and_redis()
    context = ChangeContext(user=alice)
    changes = iter(range(1, 100))

    def change() -> None:
        # Not waited for: the rotation's steps happen while each change fans out.
        origin_host_update(domain=cdn_domain, host=f"o{next(changes)}.alpha.example", context=context)

    nodes = {node.name: node for node in EdgeNode.objects.all()}
    change()
    new_keys = {
        name: edge_node_key_rotation_start(node=node, context=context) for name, node in nodes.items()
    }
    change()
    for agent in agents:  # the new key installed beside the old one, then alone: no restart
        agent.key_file.write_text(f"{agent.key}\n{new_keys[agent.name]}\n")
    change()
    for agent in agents:
        agent.key_file.write_text(new_keys[agent.name] + "\n")
        agent.key = new_keys[agent.name]
    change()
    for node in nodes.values():
        edge_node_key_rotation_finish(node=node, context=context)
        change()
    assert node_signing_keys(list(EdgeNode.objects.values_list("pk", flat=True))) == {
        node.pk: (new_keys[name],) for name, node in nodes.items()
    }

    latest = Domain.objects.get(pk=cdn_domain.pk).config_revision
    for agent in agents:
        wait_for(
            lambda a=agent: (a.held(cdn_domain.name) or {}).get("revision") == latest,
            timeout=30,
            what=f"{agent.name} to apply revision {latest}",
        )
    wait_for(lambda: status_of(cdn_domain) == DomainStatus.ONLINE, what="the domain to be online")
    assert not NodeDomainState.objects.filter(status=DeploymentStatus.FAILED).exists()
    for agent in agents:
        assert agent.status()["pushes"] >= 1
        assert "refused" not in agent.log.read_text(), agent.log.read_text()[-2000:]
    # The old key no longer opens anything.
    assert (
        httpx.get(f"{agents[0].url}/status", headers=read_headers("old-key-1", "/status")).status_code == 401
    )


@pytest.mark.django_db
def test_operators_rotate_keys_with_the_admins_actions(admin_client) -> None:
    node = make_node("edge-a", "http://127.0.0.1:9", key="old-key")
    changelist = reverse("admin:edge_edgenode_changelist")
    started = admin_client.post(changelist, {"action": "start_key_rotation", "_selected_action": [node.pk]})
    new = EdgeNode.objects.get(pk=node.pk).next_signing_key
    assert started.status_code == 200 and new and new in started.content.decode()
    finished = admin_client.post(
        changelist, {"action": "finish_key_rotation", "_selected_action": [node.pk]}, follow=True
    )
    assert "does not accept the new key yet" in finished.content.decode()
    assert node_signing_keys([node.pk]) == {node.pk: ("old-key", new)}
    admin_client.post(changelist, {"action": "cancel_key_rotation", "_selected_action": [node.pk]})
    assert node_signing_keys([node.pk]) == {node.pk: ("old-key",)}
    assert new not in admin_client.get(reverse("admin:edge_edgenode_change", args=[node.pk])).content.decode()
