"""An origin value nginx would refuse, sent through the Alibaba-compatible API, is refused with the vendor's
InvalidArgValue.Malformed naming the argument and the problem; nothing is saved or published. (The API writes
no origin address: its origins come from the console and the REST API, which refuse such values.)"""

from __future__ import annotations

import pytest

from domains.models import Domain, OriginType
from tests import factories
from tests.alibaba_api.conftest import functions
from tests.alibaba_api.test_actions import batch_set
from tests.unservable import HOST_NAMES


@pytest.fixture
def domain(alpha) -> Domain:  # type: ignore[no-untyped-def]
    return factories.make_domain(
        account=alpha, name="www.alpha.example", origins=[(OriginType.DOMAIN, "o.example.net", 443)]
    )


@pytest.mark.parametrize(("name", "problem"), HOST_NAMES)
@pytest.mark.parametrize(
    ("function", "args", "arg"),
    [
        ("https_origin_sni", {"enabled": "on"}, "https_origin_sni"),
        ("set_req_host_header", {}, "domain_name"),
        ("origin_sni", {"origin": "o.example.net"}, "sni_host"),
    ],
)
def test_the_name_is_refused_naming_the_argument(api, domain, function, args, arg, name, problem) -> None:
    answer = batch_set(api, [domain.name], functions(function, **args, **{arg: name}))
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed"), answer.body
    message = answer.body["Message"]
    assert message.startswith(f"The specified ArgValue of {arg} in function {function}"), message
    assert problem in message
    assert not domain.revisions.exists()
