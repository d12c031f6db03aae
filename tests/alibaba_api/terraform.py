"""What Terraform's alicloud provider sends and reads, over the official Python SDKs, so tests replay it.

From the provider's sources: `resource_alicloud_cdn_domain_new.go` (AddCdnDomain with `Sources` keyed
`Weight`, `type`, `content`, `priority`, `port` and `Tag.N`, then DescribeCdnDomainDetail until `online`
(a DCDN domain then gets SetDcdnDomainSSLCertificate with `SSLProtocol=off`, its schema's default);
ModifyCdnDomain with `Type`, `Content`...; StopCdnDomain / StartCdnDomain waiting for `offline` / `online`;
DeleteCdnDomain then Describe until InvalidDomain.NotFound; Read = DescribeCdnDomainDetail +
DescribeDomainCertificateInfo + ListTagResources), `resource_alicloud_dcdn_domain.go` (the DCDN twins, tags
read with DescribeDcdnTagResources), `resource_alicloud_cdn_domain_config.go` and `service_alicloud_cdn.go`
(BatchSetCdnDomainConfig, its ConfigId in the id `domain:function:configid`, DescribeCdnDomainConfigs by
DomainName, FunctionNames and ConfigId until `success`, an empty list meaning gone; DeleteSpecificConfig).
The provider sends every parameter in a form body (`RpcPost`), as the callers here do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from darabonba.runtime import RuntimeOptions

from tests.processes import wait_for

CDN = "2018-05-10"
DCDN = "2018-01-15"
Caller = Callable[[str, dict[str, str]], dict[str, Any]]


class VendorError(Exception):
    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code, self.status, self.message = code, status, message


def new_sdk(endpoint: str, key_id: str, secret: str, version: str, *, v1: bool = False) -> Caller:
    """The new SDK's generic call (the one its typed clients make), every parameter in a form body."""
    client = OpenApiClient(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=endpoint,
            protocol="http",
            signature_algorithm="v2" if v1 else None,
        )
    )

    def call(action: str, params: dict[str, str]) -> dict[str, Any]:
        api = Params(
            action=action,
            version=version,
            protocol="HTTP",
            pathname="/",
            method="POST",
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )
        try:
            return client.call_api(api, OpenApiRequest(body=dict(params)), RuntimeOptions())["body"]
        except ClientException as exc:
            raise VendorError(exc.code, exc.status_code, exc.message) from None

    return call


def core_sdk(endpoint: str, key_id: str, secret: str, version: str) -> Caller:
    """The older aliyun-python-sdk-core (HMAC-SHA1), its CommonRequest with every parameter in the body."""

    def call(action: str, params: dict[str, str]) -> dict[str, Any]:
        request = CommonRequest(domain=endpoint, version=version, action_name=action)
        request.set_protocol_type("http")
        request.set_method("POST")
        for name, value in params.items():
            request.add_body_params(name, value)
        # A client per call, its connection closed after: a kept-alive one would hold a server thread.
        client = AcsClient(key_id, secret, "cn-hangzhou", auto_retry=False)
        try:
            return json.loads(client.do_action_with_exception(request))
        except ServerException as exc:
            raise VendorError(exc.get_error_code(), exc.get_http_status(), exc.get_error_msg()) from None
        finally:
            client.session.close()

    return call


@dataclass(frozen=True)
class Product:
    version: str
    add: str
    modify: str
    stop: str
    start: str
    delete: str
    detail: str
    detail_key: str
    sources_key: tuple[str, str]
    certificate: str
    tags: str
    set_config: str
    describe_configs: str
    delete_config: str
    dcdn: bool


CDN_PRODUCT = Product(
    CDN,
    "AddCdnDomain",
    "ModifyCdnDomain",
    "StopCdnDomain",
    "StartCdnDomain",
    "DeleteCdnDomain",
    "DescribeCdnDomainDetail",
    "GetDomainDetailModel",
    ("SourceModels", "SourceModel"),
    "DescribeDomainCertificateInfo",
    "ListTagResources",
    "BatchSetCdnDomainConfig",
    "DescribeCdnDomainConfigs",
    "DeleteSpecificConfig",
    False,
)
DCDN_PRODUCT = Product(
    DCDN,
    "AddDcdnDomain",
    "UpdateDcdnDomain",
    "StopDcdnDomain",
    "StartDcdnDomain",
    "DeleteDcdnDomain",
    "DescribeDcdnDomainDetail",
    "DomainDetail",
    ("Sources", "Source"),
    "DescribeDcdnDomainCertificateInfo",
    "DescribeDcdnTagResources",
    "BatchSetDcdnDomainConfigs",
    "DescribeDcdnDomainConfigs",
    "DeleteDcdnSpecificConfig",
    True,
)


@dataclass(frozen=True)
class Source:
    type: str
    content: str
    port: int = 80
    priority: int = 20
    weight: int = 10


def create(
    call: Caller, product: Product, name: str, sources: list[Source], tags: dict[str, str], scope: str
) -> None:
    """resourceAliCloudCdnDomainCreate / resourceAliCloudDcdnDomainCreate, then the wait for `online`."""
    request: dict[str, str] = {"DomainName": name, "Scope": scope}
    if not product.dcdn:
        request["CdnType"] = "web"
    request["Sources"] = json.dumps(
        [
            {"Weight": s.weight, "type": s.type, "content": s.content, "priority": s.priority, "port": s.port}
            if not product.dcdn
            else {
                "type": s.type,
                "content": s.content,
                "priority": str(s.priority),
                "port": s.port,
                "weight": str(s.weight),
            }
            for s in sources
        ]
    )
    for index, (key, value) in enumerate(tags.items(), start=1):
        request[f"Tag.{index}.Key"] = key
        request[f"Tag.{index}.Value"] = value
    call(product.add, request)
    wait_status(call, product, name, "online")
    if (
        product.dcdn
    ):  # then its Update: `ssl_protocol` defaults to off, a change from nothing on a new resource
        call("SetDcdnDomainSSLCertificate", {"DomainName": name, "SSLProtocol": "off"})
        wait_status(call, product, name, "online")


def describe(call: Caller, product: Product, name: str) -> dict[str, Any]:
    return call(product.detail, {"DomainName": name})[product.detail_key]


def wait_status(call: Caller, product: Product, name: str, status: str) -> None:
    wait_for(
        lambda: describe(call, product, name)["DomainStatus"] == status, timeout=30, what=f"{name} {status}"
    )


def read(call: Caller, product: Product, name: str) -> dict[str, Any]:
    """Read: the attributes Terraform keeps in its state (and what `terraform import` reads)."""
    detail = describe(call, product, name)
    outer, inner = product.sources_key
    sources = sorted(
        (s["Content"], int(s["Port"]), int(s["Priority"]), s["Type"], int(s["Weight"]))
        for s in detail[outer][inner]
    )
    [certificate] = call(product.certificate, {"DomainName": name})["CertInfos"]["CertInfo"]
    tag_request = {"ResourceId.1": name, "ResourceType": "DOMAIN"}
    if product.dcdn:
        found = call(product.tags, tag_request)["TagResources"]
        tags = {t["Key"]: t["Value"] for t in (found[0]["Tag"] if found else [])}
    else:
        found = call(product.tags, tag_request)["TagResources"]["TagResource"]
        tags = {t["TagKey"]: t["TagValue"] for t in found}
    return {
        "domain_name": detail["DomainName"],
        "cname": detail["Cname"],
        "scope": detail["Scope"],
        "status": detail["DomainStatus"],
        "cdn_type": detail.get("CdnType"),
        "sources": sources,
        "ssl": certificate.get("SSLProtocol") or certificate.get("ServerCertificateStatus"),
        "tags": tags,
    }


def update_sources(call: Caller, product: Product, name: str, sources: list[Source]) -> None:
    raw = json.dumps(
        [
            {"Type": s.type, "Content": s.content, "Priority": s.priority, "Port": s.port, "Weight": s.weight}
            for s in sources
        ]
    )
    call(product.modify, {"DomainName": name, "Sources": raw})
    wait_status(call, product, name, "online")


def set_status(call: Caller, product: Product, name: str, status: str) -> None:
    if describe(call, product, name)["DomainStatus"] != status:
        call(product.stop if status == "offline" else product.start, {"DomainName": name})
    wait_status(call, product, name, status)


def set_config(call: Caller, product: Product, name: str, function: str, args: dict[str, str]) -> str:
    """resourceAliCloudCdnDomainConfigCreate: the resource id, once the config is `success`."""
    functions = [
        {"functionArgs": [{"argName": k, "argValue": v} for k, v in args.items()], "functionName": function}
    ]
    body = call(product.set_config, {"DomainNames": name, "Functions": json.dumps(functions)})
    [model] = body["DomainConfigList"]["DomainConfigModel"]
    resource_id = f"{model['DomainName']}:{model['FunctionName']}:{model['ConfigId']}"
    wait_for(
        lambda: (read_config(call, product, resource_id) or {}).get("Status") == "success",
        timeout=30,
        what="success",
    )
    return resource_id


def read_config(call: Caller, product: Product, resource_id: str) -> dict[str, Any] | None:
    """DescribeCdnDomainConfig of the provider: None when the list is empty (the config is gone)."""
    domain, function, config_id = resource_id.split(":")
    params = {"DomainName": domain, "FunctionNames": function, "ConfigId": config_id}
    found = call(product.describe_configs, params)["DomainConfigs"]["DomainConfig"]
    return found[0] if found else None


def delete_config(call: Caller, product: Product, resource_id: str) -> None:
    domain, _, config_id = resource_id.split(":")
    if read_config(call, product, resource_id) is not None:
        call(product.delete_config, {"DomainName": domain, "ConfigId": config_id})


def delete(call: Caller, product: Product, name: str) -> None:
    """resourceAliCloudCdnDomainDelete: DeleteCdnDomain, then Describe until InvalidDomain.NotFound."""
    call(product.delete, {"DomainName": name})

    def gone() -> bool:
        try:
            describe(call, product, name)
        except VendorError as exc:
            return exc.code == "InvalidDomain.NotFound"
        return False

    wait_for(gone, timeout=30, what=f"{name} gone")
