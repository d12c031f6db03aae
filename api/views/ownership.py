"""REST API: proving ownership of a root domain, which adding a domain under it needs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import membership_for
from accounts.models import Account
from api.base import ApiMixin
from api.errors import ShapedError, service_errors
from api.views.common import user_of
from domains.models import VerifiedRoot
from domains.ownership import (
    TXT_LABEL,
    file_urls,
    public_suffix_error,
    root_of,
    txt_record_name,
    verification_token,
)
from domains.root_services import domain_root_verify
from domains.validators import validate_domain_name


class DnsRecordSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `TXT`.")
    host = serializers.CharField(help_text="The host record under the root: `verification`.")
    name = serializers.CharField(help_text="The record's full name, `verification.<root>`.")
    value = serializers.CharField(help_text="Your account's verification value.")


class VerificationFileSerializer(serializers.Serializer):
    urls = serializers.ListField(child=serializers.CharField(), help_text="Where the file is looked for.")
    content = serializers.CharField(help_text="What the file holds: your account's verification value.")


class OwnershipSerializer(serializers.Serializer):
    root = serializers.CharField(help_text="The root domain of the name (by the Public Suffix List).")
    verified = serializers.BooleanField(help_text="Whether your account holds the root.")
    dns = DnsRecordSerializer(help_text="Method 1: the TXT record to add at your DNS provider.")
    file = VerificationFileSerializer(help_text="Method 2: the file to publish at the root of your web site.")


class OwnershipQuerySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A domain name you want to add, such as `shop.example.com`.")


class OwnershipVerifySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A domain name under the root to verify.")
    method = serializers.ChoiceField(choices=["dns", "file"], help_text="`dns` (TXT record) or `file`.")


def _ownership(account: Account, name: str) -> dict[str, object]:
    with service_errors(field="name"):
        normalized = validate_domain_name(name)
        root = root_of(normalized)
        if root is None:
            raise public_suffix_error(normalized)
    token = verification_token(account)
    return {
        "root": root,
        "verified": VerifiedRoot.objects.filter(root=root, account=account).exists(),
        "dns": {"type": "TXT", "host": TXT_LABEL, "name": txt_record_name(root), "value": token},
        "file": {"urls": file_urls(root), "content": token},
    }


def _account(request: Request) -> Account:
    membership = membership_for(user_of(request))
    if membership is None:
        raise ShapedError(
            {"non_field_errors": [{"code": "no_account", "message": "You belong to no account."}]}
        )
    return membership.account


@extend_schema_view(
    list=extend_schema(
        summary="What proves you own a name's root domain",
        description="The TXT record and the file, either of which proves that your account owns the root "
        "domain of `name`. A domain can be added only under a root your account holds.",
        parameters=[OwnershipQuerySerializer],
        responses=OwnershipSerializer,
    ),
    create=extend_schema(
        summary="Verify that you own a name's root domain",
        description="Checks the TXT record (`dns`) or the file (`file`); on success your account holds the "
        "root. A failed check answers 400 with what to fix.",
        request=OwnershipVerifySerializer,
        responses=OwnershipSerializer,
    ),
)
@extend_schema(tags=["domains"])
class OwnershipViewSet(ApiMixin, viewsets.ViewSet):
    """Root domain ownership: read by every member, verified by owners and administrators."""

    def list(self, request: Request) -> Response:
        query = OwnershipQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(OwnershipSerializer(_ownership(_account(request), query.validated_data["name"])).data)

    def create(self, request: Request) -> Response:
        body = OwnershipVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = _account(request)
        with service_errors():
            domain_root_verify(
                account=account,
                name=body.validated_data["name"],
                method=body.validated_data["method"],
                context=self.change_context(),
            )
        return Response(OwnershipSerializer(_ownership(account, body.validated_data["name"])).data)
