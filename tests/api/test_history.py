"""Delivery state, revision history and rollback through the REST API."""

from __future__ import annotations

from accounts.audit import ChangeContext
from accounts.models import Source
from edge.models import ConfigRevision, DeploymentStatus
from origin_fetch.services import origin_sni_update
from tests import factories
from tests.api.helpers import codes

URL = "/api/v1/domains/www.alpha.example/"


def test_the_deployments_of_the_latest_revision_per_node(owner, alice, cdn_domain) -> None:
    factories.make_node("edge-b", "http://127.0.0.1:9/")
    factories.make_node("edge-a", "http://127.0.0.1:9/")
    origin_sni_update(domain=cdn_domain, enabled=True, name="sni.alpha.example", context=ChangeContext(alice))
    factories.delivery_record(cdn_domain, "edge-a", DeploymentStatus.APPLIED)
    factories.delivery_record(
        cdn_domain, "edge-b", DeploymentStatus.FAILED, attempts=3, error="connection refused"
    )

    response = owner.get(URL + "deployments/")

    assert response.status_code == 200
    data = response.json()
    assert (data["revision"], data["status"], data["applied"], data["total"]) == (1, "configuring", 1, 2)
    assert [(n["node"], n["state"], n["attempts"], n["last_error"]) for n in data["nodes"]] == [
        ("edge-a", "applied", 1, ""),
        ("edge-b", "failed", 3, "connection refused"),
    ]
    assert "signing_key" not in response.content.decode()
    assert "agent_url" not in data["nodes"][0]


def test_the_revision_history_says_who_when_from_where_and_what_changed(owner, with_history) -> None:
    owner.put(URL + "origin-fetch/origin-sni/", {"enabled": True, "name": "sni.alpha.example"}, format="json")

    response = owner.get(URL + "revisions/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["number"], r["actor"], r["source"]) for r in results] == [
        (3, "alice", Source.REST),
        (2, "alice", Source.CONSOLE),
        (1, "alice", Source.CONSOLE),
    ]
    assert results[0]["summary"] == "Origin SNI on: sni.alpha.example"
    assert results[0]["document"]["origin_sni"] == {"enabled": True, "name": "sni.alpha.example"}
    assert {"path": "origin_sni.enabled", "before": "false", "after": "true"} in results[0]["diff"]
    assert {
        "path": "origin_host",
        "before": "origin.alpha.example",
        "after": "other.alpha.example",
    } in results[1]["diff"]


def test_the_history_takes_as_many_queries_whatever_its_length(
    owner, alice, cdn_domain, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    for index in range(30):
        origin_sni_update(
            domain=cdn_domain, enabled=True, name=f"s{index}.alpha.example", context=ChangeContext(alice)
        )
    with django_assert_max_num_queries(7):
        response = owner.get(URL + "revisions/", {"page_size": 20})
    assert len(response.json()["results"]) == 20


def test_one_revision_with_its_delivery(owner, with_history) -> None:
    factories.make_node("edge-a", "http://127.0.0.1:9/")
    owner.put(URL + "origin-fetch/origin-host/", {"origin_host": "third.alpha.example"}, format="json")
    response = owner.get(URL + "revisions/3/")
    assert response.status_code == 200
    assert response.json()["deployments"][0] | {"applied_at": None} == {
        "node": "edge-a",
        "region": "",
        "state": "pending",
        "attempts": 0,
        "last_error": "",
        "applied_at": None,
    }
    assert owner.get(URL + "revisions/9/").status_code == 404


def test_rolling_back_publishes_a_new_revision_equal_to_the_old_one(owner, alice, with_history) -> None:
    response = owner.post(URL + "revisions/1/rollback/")

    assert response.status_code == 201
    assert (response.json()["number"], response.json()["source"]) == (3, "rest")
    assert response.json()["summary"] == "Rolled back to revision 1"
    with_history.origin_fetch.refresh_from_db()
    assert with_history.origin_fetch.origin_host == "origin.alpha.example"
    first, latest = ConfigRevision.objects.get(number=1), ConfigRevision.objects.get(number=3)
    assert {**first.document, "revision": 0} == {**latest.document, "revision": 0}


def test_rolling_back_to_the_current_configuration_changes_nothing(owner, with_history) -> None:
    response = owner.post(URL + "revisions/2/rollback/")
    assert response.status_code == 200
    assert response.json()["number"] == 2
    assert ConfigRevision.objects.count() == 2


def test_a_revision_that_cannot_be_restored_is_400(owner, with_history) -> None:
    ConfigRevision.objects.filter(number=1).update(snapshot={})
    response = owner.post(URL + "revisions/1/rollback/")
    assert response.status_code == 400
    assert codes(response) == {"non_field_errors": ["not_restorable"]}
