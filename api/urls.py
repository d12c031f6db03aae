"""The REST API (`/api/v1/`), its OpenAPI 3 schema and interactive docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api import views

router = SimpleRouter()
router.register("domains", views.DomainViewSet, basename="domain")
router.register(r"domains/(?P<domain_name>[^/]+)/origins", views.OriginViewSet, basename="origin")
router.register(r"domains/(?P<domain_name>[^/]+)/revisions", views.RevisionViewSet, basename="revision")
router.register("operations", views.OperationViewSet, basename="operation")
router.register("edge-nodes", views.EdgeNodeViewSet, basename="edge-node")

SECTION = {"get": "retrieve", "put": "update", "patch": "partial_update"}
origin_fetch = [
    path("", views.OriginFetchView.as_view({"get": "retrieve"}), name="origin-fetch"),
    path("origin-sni/", views.OriginSniView.as_view(SECTION), name="origin-sni"),
    path("protocol/", views.ProtocolView.as_view(SECTION), name="origin-protocol"),
    path("origin-host/", views.OriginHostView.as_view(SECTION), name="origin-host"),
    path("verification/", views.VerificationView.as_view(SECTION), name="origin-verification"),
]

app_name = "api"
urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("v1/auth/token/", views.TokenView.as_view({"post": "create"}), name="token"),
    path("v1/domains/<str:domain_name>/origin-fetch/", include(origin_fetch)),
    path("v1/", include(router.urls)),
    # Anything else under the API answers in the API's error shape, not with the HTML error page.
    re_path(r"^v1/", views.not_found),
]
