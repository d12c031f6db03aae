"""The REST API (`/api/v1/`), its OpenAPI 3 schema and interactive docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api.views import auth, common, domains, edge_nodes, history, operations, origin_fetch, ownership

router = SimpleRouter()
router.register("domains", domains.DomainViewSet, basename="domain")
router.register(r"domains/(?P<domain_name>[^/]+)/origins", domains.OriginViewSet, basename="origin")
router.register(r"domains/(?P<domain_name>[^/]+)/revisions", history.RevisionViewSet, basename="revision")
router.register("operations", operations.OperationViewSet, basename="operation")
router.register("edge-nodes", edge_nodes.EdgeNodeViewSet, basename="edge-node")
router.register("domain-ownership", ownership.OwnershipViewSet, basename="domain-ownership")
router.register("auth/tokens", auth.TokenListView, basename="token-list")

SECTION = {"get": "retrieve", "put": "update", "patch": "partial_update"}
origin_fetch_urls = [
    path("", origin_fetch.OriginFetchView.as_view({"get": "retrieve"}), name="origin-fetch"),
    path("origin-sni/", origin_fetch.OriginSniView.as_view(SECTION), name="origin-sni"),
    path("protocol/", origin_fetch.ProtocolView.as_view(SECTION), name="origin-protocol"),
    path("origin-host/", origin_fetch.OriginHostView.as_view(SECTION), name="origin-host"),
    path("verification/", origin_fetch.VerificationView.as_view(SECTION), name="origin-verification"),
]

app_name = "api"
urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script comes from the console (`?script`): the Content-Security-Policy allows no inline one.
    path("v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/auth/token/", auth.TokenView.as_view({"post": "create"}), name="token"),
    path("v1/domains/<str:domain_name>/origin-fetch/", include(origin_fetch_urls)),
    path("v1/", include(router.urls)),
    # Anything else under the API answers in the API's error shape, not with the HTML error page.
    re_path(r"^v1/", common.not_found),
]
