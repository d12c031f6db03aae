"""Small helpers for the REST API tests."""

from __future__ import annotations

from typing import Any


def codes(response: Any) -> dict[str, list[str]]:
    """The rule codes of an error response, by field."""
    return {field: [item["code"] for item in items] for field, items in response.json()["errors"].items()}


def messages(response: Any, field: str) -> list[str]:
    return [item["message"] for item in response.json()["errors"][field]]
