from django.urls import path

from domains import converters  # noqa: F401 - registers <product:…>
from origin_fetch import copy_views, views

app_name = "origin_fetch"
urlpatterns = [
    path(
        "<product:product>/domains/<str:name>/copy-configuration/",
        copy_views.copy_config_dialog,
        name="copy_config",
    ),
    path("<product:product>/domains/<str:name>/origin-fetch/", views.origin_fetch_tab, name="tab"),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origin-sni/",
        views.origin_sni_section,
        name="origin_sni_section",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origins/<int:origin_id>/sni/edit/",
        views.origin_sni_host_dialog,
        name="origin_sni_host_dialog",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origin-sni/edit/",
        views.origin_sni_dialog,
        name="origin_sni_dialog",
    ),
    # Generic sections last: the named ones above win.
    path(
        "<product:product>/domains/<str:name>/origin-fetch/<slug:section>/",
        views.origin_fetch_section,
        name="section",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/<slug:section>/edit/",
        views.origin_fetch_dialog,
        name="dialog",
    ),
    path("<product:product>/domains/<str:name>/history/", views.domain_history, name="history"),
    path(
        "<product:product>/domains/<str:name>/history/<int:number>/rollback/",
        views.domain_rollback_view,
        name="rollback",
    ),
]
