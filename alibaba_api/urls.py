"""The AccessKey pages. The API itself answers signed calls at `/` (see `console.views.root`)."""

from django.urls import path

from alibaba_api import pages

urlpatterns = [
    path("access-keys/", pages.access_key_list, name="access_keys"),
    path("access-keys/create/", pages.access_key_create_view, name="access_key_create"),
    path("access-keys/<str:access_key_id>/enable/", pages.access_key_enable, name="access_key_enable"),
    path("access-keys/<str:access_key_id>/disable/", pages.access_key_disable, name="access_key_disable"),
    path("access-keys/<str:access_key_id>/delete/", pages.access_key_delete_view, name="access_key_delete"),
]
