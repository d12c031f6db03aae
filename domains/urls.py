from django.urls import path, register_converter

from console import views as console_views
from domains import views
from edge import views as edge_views
from origin_fetch import views as origin_fetch_views


class ProductConverter:
    regex = "cdn|dcdn"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProductConverter, "product")

app_name = "domains"
urlpatterns = [
    path("<product:product>/domains/", views.domain_list, name="list"),
    path("<product:product>/domains/add/", views.domain_add, name="add"),
    path("<product:product>/domains/<str:name>/", views.domain_basic, name="basic"),
    path("<product:product>/domains/<str:name>/status/", views.domain_status, name="status"),
    path("<product:product>/domains/<str:name>/history/", edge_views.domain_history, name="history"),
    path(
        "<product:product>/domains/<str:name>/history/<int:number>/rollback/",
        edge_views.domain_rollback_view,
        name="rollback",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/",
        origin_fetch_views.origin_fetch_tab,
        name="origin_fetch",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origin-sni/",
        origin_fetch_views.origin_sni_section,
        name="origin_sni_section",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origins/<int:origin_id>/sni/edit/",
        origin_fetch_views.origin_sni_host_dialog,
        name="origin_sni_host_dialog",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/origin-sni/edit/",
        origin_fetch_views.origin_sni_dialog,
        name="origin_sni_dialog",
    ),
    # Generic sections last: the named ones above win.
    path(
        "<product:product>/domains/<str:name>/origin-fetch/<slug:section>/",
        origin_fetch_views.origin_fetch_section,
        name="origin_fetch_section",
    ),
    path(
        "<product:product>/domains/<str:name>/origin-fetch/<slug:section>/edit/",
        origin_fetch_views.origin_fetch_dialog,
        name="origin_fetch_dialog",
    ),
    path(
        "<product:product>/domains/<str:name>/operations/",
        console_views.domain_operation_log,
        name="operations",
    ),
    # The Basic Information tab: its sections, origins, and Disable / Enable / Delete.
    path("<product:product>/domains/<str:name>/info/", views.domain_info_section, name="info_section"),
    path(
        "<product:product>/domains/<str:name>/origins/", views.domain_origins_section, name="origins_section"
    ),
    path("<product:product>/domains/<str:name>/origins/add/", views.origin_add_dialog, name="origin_add"),
    path(
        "<product:product>/domains/<str:name>/origins/<int:origin_id>/edit/",
        views.origin_edit_dialog,
        name="origin_edit",
    ),
    path(
        "<product:product>/domains/<str:name>/origins/<int:origin_id>/remove/",
        views.origin_remove_dialog,
        name="origin_remove",
    ),
    path("<product:product>/domains/<str:name>/disable/", views.domain_disable_dialog, name="disable"),
    path("<product:product>/domains/<str:name>/enable/", views.domain_enable_dialog, name="enable"),
    path("<product:product>/domains/<str:name>/delete/", views.domain_delete_dialog, name="delete"),
]
