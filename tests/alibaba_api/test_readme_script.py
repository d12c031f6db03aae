"""The README's scripts, which point the official SDK at the console, really work: the short one turning on
Origin SNI, and the Terraform-style one taking a domain through its whole life with real edge agents."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from accounts.models import OperationLog, Source
from domains.models import Domain, OriginFetchSettings
from tests import factories
from tests.conftest import require_postgresql_and_redis

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## The official Alibaba Cloud SDKs"
LIFE = "### A domain's whole life, as Terraform drives it"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


def readme_script(section: str = SECTION) -> str:
    text = README.read_text()
    assert section in text, f"the README lost its section {section!r}"
    return text.split(section, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_script_is_about_ten_lines() -> None:
    script = readme_script()
    ast.parse(script)
    assert len([line for line in script.splitlines() if line.strip()]) <= 12


def test_the_readme_script_turns_on_origin_sni_through_the_official_sdk(live_server, alpha, alice, alice_key):
    domain = factories.make_domain(account=alpha, name="www.example.com")
    env = os.environ | {
        "ACCESS_KEY_ID": alice_key.access_key_id,
        "ACCESS_KEY_SECRET": alice_key.secret,
        "CONSOLE_ENDPOINT": f"127.0.0.1:{urlparse(live_server.url).port}",
    }
    result = subprocess.run(
        [sys.executable, "-c", readme_script()], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "'FunctionName': 'https_origin_sni'" in result.stdout
    assert "'ArgValue': 'origin.example.com'" in result.stdout
    assert "'Status': 'success'" in result.stdout  # no edge node here: nothing to wait for
    settings = OriginFetchSettings.objects.get(domain=domain)
    assert (settings.sni_enabled, settings.sni_name) == (True, "origin.example.com")
    entry = OperationLog.objects.get(domain=domain)
    assert (entry.source, entry.actor) == (Source.OPENAPI, alice)


@pytest.mark.integration
def test_the_terraform_style_script_takes_a_domain_through_its_whole_life(
    live_server, celery_worker, edge_agents, alpha, alice, alice_key
):
    require_postgresql_and_redis()
    script = readme_script(LIFE)
    env = os.environ | {
        "ACCESS_KEY_ID": alice_key.access_key_id,
        "ACCESS_KEY_SECRET": alice_key.secret,
        "CONSOLE_ENDPOINT": f"127.0.0.1:{urlparse(live_server.url).port}",
        "DOMAIN": "shop.alpha.example",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    read_back, deleted = result.stdout.splitlines()
    assert read_back.startswith(
        "online shop.alpha.example.w.cdnconsole.net ['192.0.2.10', 'origin-a.example.com']"
    )
    assert "{'env': 'prod'}" in read_back
    assert deleted == "deleted"
    for (
        agent
    ) in edge_agents:  # every edge applied Origin SNI before the script went on, then dropped the domain
        assert agent.held("shop.alpha.example")["deleted"] is True
    assert not Domain.objects.filter(name="shop.alpha.example", deleted_at__isnull=True).exists()
    actions = OperationLog.objects.filter(domain_name="shop.alpha.example").values_list("action", flat=True)
    assert "origin_sni.update" in actions and "domain.delete" in actions
