from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The shell: settings, root URLs, layout, and the dispatch between pages and the signed API."""

    name = "console"
    verbose_name = "Console"
