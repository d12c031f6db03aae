from django.apps import AppConfig


class OriginFetchConfig(AppConfig):
    name = "origin_fetch"
    verbose_name = "Back-to-origin settings"
