from django.urls import path

from domains import (
    basic_info_views,
    converters,  # noqa: F401 - registers <product:…>
    list_views,
    tag_views,
    views,
)

app_name = "domains"
urlpatterns = [
    path("<product:product>/domains/", views.domain_list, name="list"),
    path("<product:product>/domains/add/", views.domain_add, name="add"),
    # Before the domain's own paths: no domain name is a single label.
    path("<product:product>/domains/batch/<str:action>/", list_views.domain_batch_dialog, name="batch"),
    path("<product:product>/domains/cname-hints/", list_views.domain_cname_hints, name="cname_hints"),
    path("<product:product>/domains/<str:name>/", views.domain_basic, name="basic"),
    path("<product:product>/domains/<str:name>/status/", views.domain_status, name="status"),
    path(
        "<product:product>/domains/<str:name>/operations/",
        views.domain_operation_log,
        name="operations",
    ),
    # The Basic Information tab: its sections, origins, and Disable / Enable / Delete.
    path(
        "<product:product>/domains/<str:name>/info/",
        basic_info_views.domain_info_section,
        name="info_section",
    ),
    path(
        "<product:product>/domains/<str:name>/origins/",
        basic_info_views.domain_origins_section,
        name="origins_section",
    ),
    path(
        "<product:product>/domains/<str:name>/origins/add/",
        basic_info_views.origin_add_dialog,
        name="origin_add",
    ),
    path(
        "<product:product>/domains/<str:name>/origins/<int:origin_id>/edit/",
        basic_info_views.origin_edit_dialog,
        name="origin_edit",
    ),
    path(
        "<product:product>/domains/<str:name>/origins/<int:origin_id>/remove/",
        basic_info_views.origin_remove_dialog,
        name="origin_remove",
    ),
    path("<product:product>/domains/<str:name>/tags/", tag_views.domain_tags_section, name="tags_section"),
    path("<product:product>/domains/<str:name>/tags/edit/", tag_views.domain_tags_dialog, name="tags_edit"),
    path(
        "<product:product>/domains/<str:name>/disable/",
        basic_info_views.domain_disable_dialog,
        name="disable",
    ),
    path(
        "<product:product>/domains/<str:name>/enable/", basic_info_views.domain_enable_dialog, name="enable"
    ),
    path(
        "<product:product>/domains/<str:name>/delete/", basic_info_views.domain_delete_dialog, name="delete"
    ),
]
