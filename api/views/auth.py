"""REST API: exchanging a user name and password for a token."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import ApiMixin
from api.serializers import TokenRequestSerializer, TokenSerializer


@extend_schema(
    tags=["auth"],
    summary="Get your API token",
    description="Exchange a user name and password for the token to send as `Authorization: Token <token>`.",
    request=TokenRequestSerializer,
    responses={200: TokenSerializer},
    auth=[],
)
class TokenView(ApiMixin, viewsets.ViewSet):
    """Exchange a user name and password for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def create(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response(TokenSerializer({"token": token.key}).data)
