"""Adding, disabling, enabling and deleting domains, and editing origins, through the one write path."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import Domain, DomainStatus, Origin
from domains.origin_services import OriginInput, origin_add, origin_remove, origin_update
from domains.selectors import domains_for_user
from domains.services import domain_create, domain_delete, domain_disable, domain_enable
from edge.delivery import domain_status_refresh
from edge.models import ConfigRevision, DeploymentStatus
from tests import factories
from tests.factories import make_node

pytestmark = pytest.mark.django_db


@pytest.fixture
def nodes(db):
    return [make_node(f"edge-{i}", f"http://127.0.0.1:{9900 + i}") for i in range(2)]


def create(account, user, **overrides):
    values = {
        "name": "New.Example.com",
        "product": "cdn",
        "business_type": "web",
        "coverage": "domestic",
        "origins": [
            OriginInput("domain", "origin.example.net", 443),
            OriginInput("ipaddr", "192.0.2.7", 443, 30),
        ],
    } | overrides
    factories.hold_root(account, values["name"])  # the account proved it owns the name's root
    return domain_create(account=account, context=ChangeContext(user=user), **values)


def apply_everywhere(domain: Domain) -> None:
    for name in factories.deliveries(domain):
        factories.delivery_record(domain, name, DeploymentStatus.APPLIED)
    domain_status_refresh(domain_ids=[domain.pk])


def test_adding_a_domain_creates_its_origins_cname_and_first_revision(alpha, alice, nodes):
    domain = create(alpha, alice)
    assert domain.name == "new.example.com" and domain.cname == "new.example.com.w.cdnconsole.net"
    assert domain.status == DomainStatus.CONFIGURING and domain.config_revision == 1
    assert [(o.address, o.priority) for o in domain.origins.all()] == [
        ("origin.example.net", 20),
        ("192.0.2.7", 30),
    ]
    document = domain.revisions.get().document
    assert document["forward_scheme"]["policy"] == "https" and len(document["origins"]) == 2
    assert len(factories.deliveries(domain)) == 2 and domain.revisions.get().outstanding
    assert OperationLog.objects.get(action="domain.create").after["name"] == "new.example.com"


def test_a_wildcard_domain_can_be_added(alpha, alice, nodes):
    assert create(alpha, alice, name="*.Example.org").cname == "all.example.org.w.cdnconsole.net"


def test_a_name_taken_by_any_account_is_refused(alpha, alice, charlie, cdn_domain):
    with pytest.raises(ValidationError) as info:
        create(charlie.membership.account, charlie, name=cdn_domain.name.upper())
    assert "already added" in info.value.message_dict["name"][0]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "bad_name.example.com"}, "name", "letters, digits and hyphens"),
        ({"origins": []}, "origins", "at least one origin"),
        ({"origins": [OriginInput("ipaddr", "origin.example.net", 443)]}, "origins.0.address", "not an IP"),
        ({"origins": [OriginInput("domain", "a.example.net", 70000)]}, "origins.0.port", "1 and 65535"),
        (
            {"origins": [OriginInput("domain", "a.example.net", 80, weight=0)]},
            "origins.0.weight",
            "1 and 100",
        ),
        ({"product": "dcdn", "business_type": "web"}, "business_type", "business type"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(alpha, alice, nodes, overrides, field, words):
    with pytest.raises(ValidationError) as info:
        create(alpha, alice, **overrides)
    assert words in " ".join(info.value.message_dict[field])
    assert not Domain.objects.exists() and not ConfigRevision.objects.exists()


def test_disable_and_enable_go_to_the_edge(alpha, alice, nodes):
    domain = create(alpha, alice)
    apply_everywhere(domain)
    domain_disable(domain=domain, context=ChangeContext(user=alice))
    domain.refresh_from_db()
    assert domain.status == DomainStatus.OFFLINE
    assert domain.revisions.get(number=2).document["enabled"] is False
    apply_everywhere(domain)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.OFFLINE  # applying a disable keeps it disabled
    domain_disable(domain=domain, context=ChangeContext(user=alice))  # twice: nothing more
    assert domain.revisions.count() == 2

    domain_enable(domain=domain, context=ChangeContext(user=alice))
    domain.refresh_from_db()
    assert domain.status == DomainStatus.CONFIGURING
    assert domain.revisions.get(number=3).document["enabled"] is True
    apply_everywhere(domain)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ONLINE


def test_delete_hides_the_domain_at_once_and_removes_it_when_every_node_dropped_it(alpha, alice, nodes):
    domain = create(alpha, alice)
    domain_delete(domain=domain, context=ChangeContext(user=alice))
    assert not domains_for_user(alice).exists()
    tombstone = domain.revisions.get(number=2).document
    assert tombstone == {"domain": "new.example.com", "revision": 2, "deleted": True, "schema": 1}
    with pytest.raises(ValidationError):
        create(alpha, alice)  # the name is still being removed from the edge
    apply_everywhere(domain)
    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert OperationLog.objects.get(action="domain.delete").domain_name == "new.example.com"
    assert create(alpha, alice).name == "new.example.com"


def test_delete_without_edge_nodes_is_immediate(alpha, alice):
    domain = create(alpha, alice)
    domain_delete(domain=domain, context=ChangeContext(user=alice))
    assert not Domain.objects.filter(pk=domain.pk).exists()


def test_origins_add_update_remove(alpha, alice, nodes):
    domain = create(alpha, alice)
    context = ChangeContext(user=alice)
    added = origin_add(
        domain=domain, origin=OriginInput("domain", "Third.Example.net", 8443), context=context
    )
    assert added.address == "third.example.net"
    with pytest.raises(ValidationError) as info:
        origin_add(domain=domain, origin=OriginInput("domain", "third.example.net", 8443), context=context)
    assert "listed twice" in str(info.value)
    origin_update(
        origin=added, changes=OriginInput("domain", "third.example.net", 443, 30, 50), context=context
    )
    added.refresh_from_db()
    assert (added.port, added.priority, added.weight) == (443, 30, 50)
    origin_remove(origin=added, context=context)
    origin_remove(origin=domain.origins.first(), context=context)
    with pytest.raises(ValidationError, match="at least one origin"):
        origin_remove(origin=domain.origins.get(), context=context)
    domain.refresh_from_db()
    assert domain.config_revision == 5
    assert [e.action for e in OperationLog.objects.order_by("id")] == [
        "domain.create",
        "origin.add",
        "origin.update",
        "origin.remove",
        "origin.remove",
    ]
    assert Origin.objects.filter(domain=domain).count() == 1
