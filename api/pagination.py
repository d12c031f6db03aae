"""Page-number pagination with the console's page sizes: 20, 50 or 100."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

PAGE_SIZES = (20, 50, 100)


class PagePagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZES[0]
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if raw not in {str(size) for size in PAGE_SIZES}:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        ErrorDetail("Choose a page size of 20, 50 or 100.", code="invalid_choice")
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "The page number, from 1; a page past the last one is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Results per page: 20 (the default), 50 or 100.",
                "schema": {"type": "integer", "enum": list(PAGE_SIZES), "default": PAGE_SIZES[0]},
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "description": "The number of results on all pages."},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }
