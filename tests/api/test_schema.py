"""The OpenAPI schema and the interactive docs, served without any outside resource."""

from __future__ import annotations

import re

import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_schema_is_generated_valid_and_without_warnings(tmp_path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_schema_is_served_and_documents_the_error_shape(db) -> None:
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["schemas"]["Error"]["required"] == ["errors"]
    sni = schema["paths"]["/api/v1/domains/{domain_name}/origin-fetch/origin-sni/"]
    assert {"200", "400", "401", "403", "404", "412"} <= set(sni["put"]["responses"])
    assert "ETag" in sni["get"]["responses"]["200"]["headers"]
    assert any(parameter["name"] == "If-Match" for parameter in sni["patch"]["parameters"])
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_the_docs_use_only_the_consoles_own_static_files(db) -> None:
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
