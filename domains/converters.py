"""The `<product:…>` path converter of the domain pages (CDN or DCDN), registered once on import."""

from django.urls import register_converter


class ProductConverter:
    regex = "cdn|dcdn"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProductConverter, "product")
