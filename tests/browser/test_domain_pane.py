"""The Basic Information tab in Chromium: editing origins, and Disable / Enable / Delete, with the real Celery
worker and edge agents following each change: in what each agent holds, and in what a real nginx serves."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.audit import ChangeContext
from domains.models import BusinessType, Coverage, Domain, Product
from domains.origin_services import OriginInput
from domains.services import domain_create
from origin_fetch.services import origin_protocol_update
from tests import factories
from tests.browser.test_origin_sni_journey import log_on
from tests.conftest import require
from tests.edge_agent.nginx_support import NginxEdge, answer, nginx_program
from tests.processes import free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_pane(page: Page, domain: str, product: str = "cdn") -> None:
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Domain Names").nth(0 if product == "cdn" else 1).click()
    action = "Manage" if product == "cdn" else "Configure"
    page.get_by_role("row").filter(has_text=domain).get_by_role("link", name=action).click()
    expect(page.get_by_role("heading", name="Basic Information")).to_be_visible()


def held_document(agent, domain: str) -> dict | None:
    """The config document the agent holds for `domain`, or None once it holds none (deleted or unknown)."""
    response = agent.read(f"/v1/config/{domain}")  # reads are signed with the node's key
    return response.json() if response.status_code == 200 else None


def wait_for_edges(agents, domain: str, check, what: str) -> None:
    revision = Domain.objects.get(name=domain).config_revision
    for agent in agents:
        wait_for(
            lambda a=agent: (h := a.held(domain)) and h["revision"] >= revision and check(a, h),
            what=f"{agent.name} {what}",
        )


def origins_held(agent, domain: str) -> list[tuple[str, int, int, int]]:
    document = held_document(agent, domain) or {}
    return [(o["address"], o["port"], o["priority"], o["weight"]) for o in document.get("origins", [])]


def test_a_customer_edits_the_origins_and_every_edge_receives_them(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("origins")
    domain = "www.example.com"
    log_on(page, live_server.url)
    open_pane(page, domain)
    origins = page.locator("#origins-section")
    shot("basic-information")

    # Add: a bad port keeps the dialog open with the message next to the field; then a good origin.
    origins.get_by_role("button", name="Add origin").click()
    dialog = page.get_by_role("dialog", name="Add origin")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Type").select_option(label="IP address")
    dialog.get_by_label("Address").fill("203.0.113.50")
    dialog.get_by_label("Port").fill("70000")
    dialog.get_by_label("Backup").check()
    dialog.get_by_label("Weight").fill("30")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.locator("#id_port_error")).to_have_text("The port must be between 1 and 65535.")
    expect(dialog.get_by_label("Port")).to_be_focused()
    shot("bad-port")
    dialog.get_by_label("Port").fill("443")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    row = origins.get_by_role("row").filter(has_text="203.0.113.50")
    expect(row).to_contain_text("Backup")
    expect(row).to_contain_text("30")
    shot("added")
    expect(page.locator("#domain-status")).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    wait_for_edges(
        demo,
        domain,
        lambda a, h: ("203.0.113.50", 443, 30, 30) in origins_held(a, domain),
        "holds the new origin",
    )

    # Modify origin-b: another port and weight.
    origins.get_by_role("button", name="Modify origin origin-b.example.net").click()
    dialog = page.get_by_role("dialog", name="Modify origin origin-b.example.net")
    expect(dialog.get_by_label("Address")).to_have_value("origin-b.example.net")
    dialog.get_by_label("Port").fill("8443")
    dialog.get_by_label("Weight").fill("50")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(origins.get_by_role("row").filter(has_text="origin-b.example.net")).to_contain_text("8443")
    wait_for_edges(
        demo,
        domain,
        lambda a, h: ("origin-b.example.net", 8443, 20, 50) in origins_held(a, domain),
        "holds the modified origin",
    )

    # Remove origin-a, after a confirmation naming it.
    origins.get_by_role("button", name="Remove origin origin-a.example.net").click()
    confirm = page.get_by_role("alertdialog", name="Remove origin")
    expect(confirm).to_contain_text("origin-a.example.net:443")
    shot("remove")
    confirm.get_by_role("button", name="Remove").click()
    expect(confirm).to_be_hidden()
    expect(origins.get_by_role("row").filter(has_text="origin-a.example.net")).to_have_count(0)
    wait_for_edges(
        demo,
        domain,
        lambda a, h: [o[0] for o in origins_held(a, domain)] == ["origin-b.example.net", "203.0.113.50"],
        "no longer holds the removed origin",
    )
    expect(page.locator("#domain-status")).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(page.locator("#domain-status .badge").first).to_have_text("Enabled")
    shot("removed")


def test_removing_the_last_origin_is_refused_in_the_dialog(page: Page, live_server, celery_worker, demo):
    domain = "dynamic.example.com"
    before = [agent.status()["domains"][domain] for agent in demo]
    log_on(page, live_server.url)
    open_pane(page, domain, product="dcdn")
    page.get_by_role("button", name="Remove origin 203.0.113.30").click()
    confirm = page.get_by_role("alertdialog", name="Remove origin")
    confirm.get_by_role("button", name="Remove").click()
    expect(confirm.get_by_role("alert")).to_contain_text("A domain needs at least one origin")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#origins-section")).to_contain_text("203.0.113.30")
    assert Domain.objects.get(name=domain).config_revision == 1
    assert [agent.status()["domains"][domain] for agent in demo] == before


def test_a_customer_disables_and_enables_a_domain_and_every_edge_follows(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("disable")
    domain = "http-only.example.com"
    log_on(page, live_server.url)
    open_pane(page, domain)
    info = page.locator("#info-section")
    status = page.locator("#domain-status")

    info.get_by_role("button", name="Disable").click()
    confirm = page.get_by_role("alertdialog", name="Disable domain name")
    expect(confirm).to_contain_text(f"Disable {domain}?")
    shot("confirm")
    confirm.get_by_role("button", name="Disable").click()
    expect(confirm).to_be_hidden()
    expect(info.locator("#domain-info-status")).to_have_text("Disabled")
    expect(status.locator(".badge").first).to_have_text("Disabled")
    expect(status).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(info.get_by_role("button", name="Enable")).to_be_visible()
    shot("disabled")
    wait_for_edges(demo, domain, lambda a, h: h["enabled"] is False, "stops serving the domain")
    assert all(held_document(agent, domain)["enabled"] is False for agent in demo)

    info.get_by_role("button", name="Enable").click()
    confirm = page.get_by_role("alertdialog", name="Enable domain name")
    expect(confirm).to_contain_text(f"Enable {domain}?")
    confirm.get_by_role("button", name="Enable").click()
    expect(confirm).to_be_hidden()
    expect(status).to_contain_text("3 of 3 edge nodes", timeout=15_000)
    expect(status.locator(".badge").first).to_have_text("Enabled")
    expect(info.locator("#domain-info-status")).to_have_text("Enabled")
    expect(info.get_by_role("button", name="Disable")).to_be_visible()
    shot("enabled")
    wait_for_edges(demo, domain, lambda a, h: h["enabled"] is True, "serves the domain again")


def test_a_customer_deletes_a_domain_and_every_edge_drops_it(
    page: Page, live_server, celery_worker, demo, shots
):
    shot = shots("delete")
    domain = "oss.example.com"
    log_on(page, live_server.url)
    open_pane(page, domain)

    page.locator("#info-section").get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("alertdialog", name="Delete domain name")
    expect(confirm).to_contain_text(f"Delete {domain}?")
    confirm.get_by_label("Enter the domain name to confirm").fill("oss.example.org")
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm.locator("#id_confirm_name_error")).to_contain_text(f"Enter {domain} exactly")
    expect(confirm).to_be_visible()
    assert Domain.objects.get(name=domain).deleted_at is None
    confirm.get_by_label("Enter the domain name to confirm").fill(domain)
    shot("confirm")
    confirm.get_by_role("button", name="Delete").click()

    expect(page).to_have_url(live_server.url + reverse("domains:list", args=["cdn"]))
    expect(page.get_by_role("status")).to_contain_text(f"{domain} is deleted")
    expect(page.get_by_role("row").filter(has_text=domain)).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="www.example.com")).to_have_count(1)
    shot("deleted")
    for agent in demo:
        wait_for(
            lambda a=agent: (h := a.held(domain)) and h["deleted"] and not h["enabled"],
            what=f"{agent.name} drops {domain}",
        )
        assert held_document(agent, domain) is None
        assert agent.held("www.example.com")["enabled"] is True
    # Once every edge node has dropped it, the domain is gone for good (and its name free again).
    wait_for(lambda: not Domain.objects.filter(name=domain).exists(), what=f"{domain} removed")


class HttpOrigin:
    """A plain HTTP origin on one port of several loopback addresses; each answer names the address."""

    def __init__(self, addresses: tuple[str, ...] = ("127.0.0.1", "127.0.0.3")) -> None:
        self.port = free_port()
        self.servers = []
        for address in addresses:

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self) -> None:  # noqa: N802 - the http.server API
                    body = json.dumps({"origin": self.server.server_address[0]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args: object) -> None:
                    pass

            server = ThreadingHTTPServer((address, self.port), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def nginx_edges(transactional_db, tmp_path, celery_worker):
    """Two edge nodes whose agents serve through a real nginx each, and a customer with a domain on them."""
    program = nginx_program()
    require(program is not None, "nginx is not installed (apt-get install nginx)")
    origin = HttpOrigin()
    edges = []
    try:
        for n in (1, 2):
            edge = NginxEdge(f"nginx-{n}", tmp_path / f"nginx-{n}", f"nginx-key-{n}", nginx_bin=program)
            edges.append(edge.start())
            factories.make_node(edge.name, edge.url, key=edge.key)
        account = factories.make_account("shop")
        user = factories.make_user("shopkeeper", account=account)
        context = ChangeContext(user=user)
        factories.hold_root(account, "shop.example.com")
        domain = domain_create(
            account=account,
            name="shop.example.com",
            product=Product.CDN,
            business_type=BusinessType.WEB,
            coverage=Coverage.DOMESTIC,
            origins=[OriginInput("ipaddr", "127.0.0.1", origin.port)],
            context=context,
        )
        origin_protocol_update(
            domain=domain, policy="http", http_port=origin.port, https_port=443, context=context
        )
        yield edges
    finally:
        for edge in edges:
            edge.stop()
            edge.kill_nginx()
        origin.stop()


def edges_serve(edges, host: str, status: int, origin: str | None) -> None:
    """Wait until every edge's nginx answers `host` with `status` (and, from an origin, the one named)."""
    row = Domain.objects.filter(name=host).first()
    revision = str(row.config_revision) if row and status != 404 else None
    for edge in edges:

        def ok(edge=edge) -> bool:
            code, header, body = answer(edge.get(host))
            return code == status and header == revision and (body or {}).get("origin") == origin

        wait_for(ok, what=f"{edge.name} to answer {host} with {status} from {origin or 'nginx'}")


def test_the_nginx_of_every_edge_follows_origin_edits_disable_enable_and_delete(
    page: Page, live_server, nginx_edges
):
    domain = "shop.example.com"
    edges_serve(nginx_edges, domain, 200, "127.0.0.1")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("shopkeeper")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log on").click()
    open_pane(page, domain)
    info, status = page.locator("#info-section"), page.locator("#domain-status")

    page.get_by_role("button", name="Modify origin 127.0.0.1").click()
    dialog = page.get_by_role("dialog", name="Modify origin 127.0.0.1")
    dialog.get_by_label("Address").fill("127.0.0.3")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(status).to_contain_text("2 of 2 edge nodes", timeout=15_000)
    edges_serve(nginx_edges, domain, 200, "127.0.0.3")

    info.get_by_role("button", name="Disable").click()
    page.get_by_role("alertdialog", name="Disable domain name").get_by_role("button", name="Disable").click()
    expect(status.locator(".badge").first).to_have_text("Disabled")
    edges_serve(nginx_edges, domain, 403, None)

    info.get_by_role("button", name="Enable").click()
    page.get_by_role("alertdialog", name="Enable domain name").get_by_role("button", name="Enable").click()
    expect(status.locator(".badge").first).to_have_text("Enabled", timeout=15_000)
    edges_serve(nginx_edges, domain, 200, "127.0.0.3")

    info.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("alertdialog", name="Delete domain name")
    confirm.get_by_label("Enter the domain name to confirm").fill(domain)
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text(f"{domain} is deleted")
    edges_serve(nginx_edges, domain, 404, None)
    wait_for(lambda: not Domain.objects.filter(name=domain).exists(), what=f"{domain} removed")
