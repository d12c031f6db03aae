"""The status line of a domain: its progress from the first render, readable failures with the technical
detail, and Retry of a failed edge node (owners and administrators; another account 404, a viewer 403)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.audit import ChangeContext
from domains.delivery_status import failure_reason
from domains.models import OriginFetchSettings
from edge.models import EdgeNode, NodeDomainState
from edge.tasks import enqueue_node_delivery
from origin_fetch.services import origin_host_update
from tests import factories

pytestmark = pytest.mark.django_db

TIMEOUT = "Agent unreachable: ReadTimeout"


@pytest.fixture
def failed(alice, cdn_domain):
    """edge-1 applied the domain's latest revision; edge-2 failed it (its agent timed out)."""
    for name in ("edge-1", "edge-2"):
        factories.make_node(name, f"http://127.0.0.1:9/{name}")
    change = origin_host_update(domain=cdn_domain, host="origin.alpha.example", context=ChangeContext(alice))
    number = change.revision.number
    edge_1, edge_2 = EdgeNode.objects.get(name="edge-1"), EdgeNode.objects.get(name="edge-2")
    now = timezone.now()
    NodeDomainState.objects.update_or_create(
        node=edge_1,
        domain=cdn_domain,
        defaults={
            "number": number,
            "applied_number": number,
            "applied_at": now,
            "status": "applied",
            "attempts": 1,
            "updated_at": now,
        },
    )
    NodeDomainState.objects.update_or_create(
        node=edge_2,
        domain=cdn_domain,
        defaults={
            "number": number,
            "status": "failed",
            "last_error": TIMEOUT,
            "attempts": 3,
            "updated_at": now,
        },
    )
    return cdn_domain


def retry_url(domain, node="edge-2"):
    return reverse(
        "domains:node_retry", kwargs={"product": domain.product, "name": domain.name, "node": node}
    )


def test_the_progress_line_is_on_the_page_from_its_first_render(client, alice, failed):
    client.force_login(alice)
    page = client.get(
        reverse("domains:basic", kwargs={"product": "cdn", "name": failed.name})
    ).content.decode()
    assert "1 of 2 edge nodes" in page and "1 failed" in page


def test_a_failure_reads_in_words_with_the_technical_detail_one_click_away(client, alice, failed):
    client.force_login(alice)
    status = client.get(
        reverse("domains:status", kwargs={"product": "cdn", "name": failed.name})
    ).content.decode()
    assert "The edge node did not answer in time." in status
    assert "<summary" in status and TIMEOUT in status.split("Technical detail", 1)[1]
    assert "Retry" in status


def test_the_failure_reads_in_chinese_too(client, alice, failed):
    client.force_login(alice)
    client.cookies["django_language"] = "zh-hans"
    status = client.get(
        reverse("domains:status", kwargs={"product": "cdn", "name": failed.name})
    ).content.decode()
    assert "边缘节点未及时响应。" in status and "重试" in status


@pytest.mark.parametrize(
    "error, reason",
    [
        ("Agent unreachable: ConnectError", "The edge node could not be reached."),
        ("Agent answered 401: bad signature", "The edge node refused the console's signature."),
        ("Agent answered 503: busy", "The edge node had an internal error."),
        ("Agent answered 400: invalid document", "The edge node refused the configuration."),
        ("Agent sent an unreadable answer", "The edge node's answer could not be read."),
        ("nginx: [emerg] unknown directive", "The edge node could not apply the configuration."),
    ],
)
def test_each_kind_of_failure_has_its_reason(error, reason):
    with translation.override("en"):
        assert failure_reason(error) == reason


def test_retry_enqueues_a_push_to_that_node_once_committed(
    client, alice, failed, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(retry_url(failed), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Retrying edge node edge-2" in response["HX-Trigger"]
    # One push of edge-2, enqueued once the transaction commits: it sends the node what it lags on.
    [callback] = callbacks
    assert (callback.func, callback.keywords) == (
        enqueue_node_delivery,
        {"node_id": EdgeNode.objects.get(name="edge-2").pk},
    )


def test_an_administrator_may_retry(client, alpha, failed):
    admin = factories.make_user("dave", account=alpha, role="admin")
    client.force_login(admin)
    assert client.post(retry_url(failed), HTTP_HX_REQUEST="true").status_code == 200


def test_retry_without_htmx_returns_to_the_domain(client, alice, failed):
    client.force_login(alice)
    response = client.post(retry_url(failed))
    assert response.status_code == 302 and response["Location"].endswith(f"/cdn/domains/{failed.name}/")


def test_a_viewer_may_not_retry(client, bob, failed, django_capture_on_commit_callbacks):
    client.force_login(bob)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(retry_url(failed), HTTP_HX_REQUEST="true").status_code == 403
    assert callbacks == []
    status = client.get(
        reverse("domains:status", kwargs={"product": "cdn", "name": failed.name})
    ).content.decode()
    assert "Retry" not in status


def test_another_account_gets_404(client, charlie, failed, django_capture_on_commit_callbacks):
    client.force_login(charlie)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(retry_url(failed), HTTP_HX_REQUEST="true").status_code == 404
    assert callbacks == []


def test_an_unknown_node_is_404(client, alice, failed):
    client.force_login(alice)
    assert client.post(retry_url(failed, node="edge-9"), HTTP_HX_REQUEST="true").status_code == 404


def test_retry_needs_the_csrf_token(alice, failed):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    response = csrf_client.post(retry_url(failed), HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "The form has expired" in response.content.decode()


def test_retry_is_post_only(client, alice, failed):
    client.force_login(alice)
    assert client.get(retry_url(failed)).status_code == 405


def test_a_save_says_how_many_edge_nodes_it_deploys_to(client, alice, cdn_domain):
    client.force_login(alice)
    url = reverse(
        "origin_fetch:dialog", kwargs={"product": "cdn", "name": cdn_domain.name, "section": "origin-host"}
    )

    def save(host: str) -> str:
        version = OriginFetchSettings.objects.get(domain=cdn_domain).version
        response = client.post(
            url, {"host_type": "custom", "host": host, "version": version}, HTTP_HX_REQUEST="true"
        )
        return json.loads(response["HX-Trigger"])["console-notice"]["message"]

    with translation.override("en"):
        assert (
            save("a.alpha.example")
            == "Saved. No edge node is enabled yet: the change is deployed when one is."
        )
        factories.make_node("edge-1", "http://127.0.0.1:9/1")
        factories.make_node("edge-2", "http://127.0.0.1:9/2")
        assert save("b.alpha.example") == "Saved. Deploying to 2 edge nodes…"
        assert save("b.alpha.example") == "Saved. Nothing changed, so nothing is deployed."
    client.cookies["django_language"] = "zh-hans"
    assert save("c.alpha.example") == "已保存。正在下发到 2 个边缘节点…"
