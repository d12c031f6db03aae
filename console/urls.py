from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import views
from console.views import root

urlpatterns = [
    path("", root, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("api.urls")),
    path("operations/", views.operation_log, name="operation_log"),
    path("access-keys/", views.access_key_list, name="access_keys"),
    path("access-keys/create/", views.access_key_create_view, name="access_key_create"),
    path("access-keys/<str:access_key_id>/enable/", views.access_key_enable, name="access_key_enable"),
    path("access-keys/<str:access_key_id>/disable/", views.access_key_disable, name="access_key_disable"),
    path("access-keys/<str:access_key_id>/delete/", views.access_key_delete_view, name="access_key_delete"),
    path("team/", views.team, name="team"),
    path("team/add/", views.member_add, name="member_add"),
    path("team/<int:member_id>/role/", views.member_role, name="member_role"),
    path("team/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("", include("domains.urls")),
]
