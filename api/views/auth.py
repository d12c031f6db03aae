"""REST API: exchanging a user name and password for a token, listing your tokens, revoking one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lockout import cool_off_seconds, lockout_message
from api.base import ApiMixin
from api.models import ApiToken
from api.serializers import TokenRequestSerializer
from api.throttling import TokenThrottle
from api.tokens import api_token_create, api_token_revoke
from api.views.common import user_of


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send it as `Authorization: Token <token>`; it is shown only once."
    )
    expires_at = serializers.DateTimeField(help_text="When the token stops working.")


class TokenListSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request was made with this token.")

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "created_at", "expires_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        return getattr(self.context.get("auth"), "pk", None) == token.pk


@extend_schema(
    tags=["auth"],
    summary="Get an API token",
    description="Exchange a user name and password for a new token, to send as `Authorization: Token "
    "<token>`. Only a digest of it is stored: keep it, it is shown once. It expires (`expires_at`); revoke "
    "it with `DELETE /api/v1/auth/tokens/{id}/`. Repeated wrong passwords lock the user out for a while.",
    request=TokenRequestSerializer,
    responses={200: TokenSerializer},
    auth=[],
)
class TokenView(ApiMixin, viewsets.ViewSet):
    """Exchange a user name and password for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    def create(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):  # the log-on lockout, as on the log-on page
            raise Throttled(wait=cool_off_seconds(), detail=lockout_message())
        if not valid:
            raise ValidationError(serializer.errors)
        issued = api_token_create(user=serializer.validated_data["user"])
        return Response(TokenSerializer({"token": issued.key, "expires_at": issued.token.expires_at}).data)


@extend_schema_view(
    list=extend_schema(summary="Your API tokens", responses=TokenListSerializer(many=True)),
    destroy=extend_schema(summary="Revoke an API token", description="It stops working at once."),
)
@extend_schema(tags=["auth"])
class TokenListView(ApiMixin, viewsets.GenericViewSet):
    """Your tokens (never the tokens themselves: only their prefixes), and revoking one."""

    permission_classes = [IsAuthenticated]
    serializer_class = TokenListSerializer
    pagination_class = None
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ApiToken.objects.filter(user=user_of(self.request))

    def list(self, request: Request) -> Response:
        tokens = self.get_queryset()
        return Response(TokenListSerializer(tokens, many=True, context={"auth": request.auth}).data)

    def destroy(self, request: Request, pk: str) -> Response:
        api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
