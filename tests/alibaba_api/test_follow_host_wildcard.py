"""ali_follow_host on a wildcard domain would send the wildcard as SNI: the OpenAPI refuses it too."""

from __future__ import annotations

from domains.models import OriginType
from tests import factories
from tests.alibaba_api.conftest import functions
from tests.alibaba_api.test_actions import batch_set, configs


def test_origin_sni_following_a_wildcard_host_is_refused_with_the_rule(api, alpha):
    domain = factories.make_domain(
        account=alpha, name="*.wild.alpha.example", origins=[(OriginType.IPADDR, "203.0.113.10", 443)]
    )
    answer = batch_set(
        api, [domain.name], functions("origin_sni", origin="203.0.113.10", sni_host="ali_follow_host")
    )
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed")
    assert "SNI supports only specific domain names" in answer.body["Message"]
    assert "*.wild.alpha.example" in answer.body["Message"]
    assert domain.origins.get().sni_host == ""

    host = functions("set_req_host_header", domain_name="www.wild.alpha.example")
    assert batch_set(api, [domain.name], host).status == 200
    answer = batch_set(
        api, [domain.name], functions("origin_sni", origin="203.0.113.10", sni_host="ali_follow_host")
    )
    assert answer.status == 200, answer.body
    assert [c["FunctionName"] for c in configs(api, domain.name, FunctionNames="origin_sni")] == [
        "origin_sni"
    ]
