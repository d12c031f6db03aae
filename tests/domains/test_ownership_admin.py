"""Operators mark a root domain verified for an account in the admin, and release it: through the services,
in the account's operation log, and never a root another account holds."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import OperationLog, Source
from domains.models import VerifiedRoot
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(user)
    return client


def test_an_operator_marks_the_root_of_a_name_verified(operator, alpha):
    response = operator.post(
        reverse("admin:domains_verifiedroot_add"), {"account": alpha.pk, "root": "Shop.Lab.Example.co.uk"}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    held = VerifiedRoot.objects.get()
    assert (held.root, held.account, held.method, held.actor_name) == (
        "example.co.uk",
        alpha,
        "operator",
        "operator",
    )
    entry = OperationLog.objects.get(action="domain_root.verify")
    assert (entry.account, entry.source, entry.after) == (
        alpha,
        Source.ADMIN,
        {"root": "example.co.uk", "method": "operator"},
    )


def test_a_root_another_account_holds_or_a_public_suffix_is_refused(operator, alpha, charlie):
    add = reverse("admin:domains_verifiedroot_add")
    taken = operator.post(add, {"account": alpha.pk, "root": "www.other.example"})
    assert "verified by another account" in taken.content.decode()
    suffix = operator.post(add, {"account": alpha.pk, "root": "co.uk"})
    assert "is a public suffix" in suffix.content.decode()
    assert list(VerifiedRoot.objects.values_list("root", "account")) == [
        ("other.example", charlie.membership.account_id)
    ]


def test_an_operator_releases_a_root(operator, charlie):
    held = VerifiedRoot.objects.get(root="other.example")
    response = operator.post(reverse("admin:domains_verifiedroot_delete", args=[held.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not VerifiedRoot.objects.exists()
    assert OperationLog.objects.get(action="domain_root.release").before == {
        "root": "other.example",
        "method": "operator",
    }
