"""The README's script, which points the official SDK at the console and turns on Origin SNI, really works."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from accounts.models import OperationLog, Source
from domains.models import OriginFetchSettings
from tests import factories

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## The official Alibaba Cloud SDKs"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]


def readme_script() -> str:
    text = README.read_text()
    assert SECTION in text, "the README lost its SDK section"
    return text.split(SECTION, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


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
