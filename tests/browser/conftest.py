from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from domains.models import Domain, DomainStatus
from edge.models import EdgeNode
from tests.conftest import require
from tests.processes import AgentProcess, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a folder: the journey tests save each step there

# A save goes through the live server, a Celery worker and three agents on a machine of two cores shared by
# all of them (and by CI's other work): Playwright's 5 s default wait for what a save changes is too short
# there. What a test waits for still has to happen; only the patience is longer.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(autouse=True)
def patient_page(request):
    """Actions and waits on the page share the expectations' patience; what the page asked of the server
    and what its console said are kept, and shown with the test's failure."""
    if "page" not in request.fixturenames:
        return
    page = request.getfixturevalue("page")
    page.set_default_timeout(WAIT_MS)
    log = request.node.page_log = []
    page.on("console", lambda message: log.append(f"console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: log.append(f"page error: {error}"))
    page.on("requestfailed", lambda req: log.append(f"{req.method} {req.url} failed: {req.failure}"))
    page.on(
        "response",
        lambda response: log.append(
            f"{response.request.method} {response.url} -> {response.status}"
            f" {response.headers.get('hx-trigger', '')}".rstrip()
        ),
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    log = getattr(item, "page_log", None)
    if log and report.failed:
        report.sections.append(("what the page did", "\n".join(log[-60:])))
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(Path(CHROMIUM).exists(), "needs Debian's chromium: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def demo(transactional_db, tmp_path, celery_worker):
    """The demo data of `make run`, its three edge nodes served by real agents on free ports, delivered."""
    os.environ.setdefault("DEMO_PASSWORD", "demo-password-for-tests")
    agents = []
    for name in ("edge-1", "edge-2", "edge-3"):
        agent = AgentProcess(name, tmp_path / name, key="")
        node = EdgeNode.objects.create(name=name, agent_url=agent.url)
        agent.key = node.signing_key  # the agent's key file, and the key of the test's signed reads
        agent.key_file.write_text(agent.key)
        agents.append(agent.start())
    call_command("seed_demo", agents_dir=str(tmp_path / "keys"))
    names = set(Domain.objects.values_list("name", flat=True))
    for agent in agents:
        wait_for(lambda a=agent: set(a.status()["domains"]) == names, what=f"{agent.name} holds every domain")
    wait_for(
        lambda: set(Domain.objects.values_list("status", flat=True)) == {DomainStatus.ONLINE},
        what="every demo domain online",
    )
    yield agents
    for agent in agents:
        agent.stop()


class Shots:
    """Saves numbered screenshots of a journey when CONSOLE_SCREENSHOTS names a folder."""

    def __init__(self, page, prefix: str) -> None:
        self.page, self.prefix, self.count = page, prefix, 0

    def __call__(self, step: str) -> None:
        if not SCREENSHOTS:
            return
        self.count += 1
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state()
        self.page.screenshot(
            path=str(folder / f"{self.prefix}-{self.count:02}-{step}.png"), animations="disabled"
        )


@pytest.fixture
def shots(page):
    return lambda prefix: Shots(page, prefix)
