from django.urls import path

from accounts import views

urlpatterns = [
    path("operations/", views.operation_log, name="operation_log"),
    path("team/", views.team, name="team"),
    path("team/add/", views.member_add, name="member_add"),
    path("team/<int:member_id>/role/", views.member_role, name="member_role"),
    path("team/<int:member_id>/remove/", views.member_remove, name="member_remove"),
]
