"""Tags of a domain: the vendor's rules, the services (all of it or nothing, the operation log), and the Tags
section and editor of the Basic Information tab (owner, stranger 404, viewer 403)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import Domain, DomainTag
from domains.tags import domain_tags_add, domain_tags_remove, domain_tags_replace, validate_tags
from edge.models import ConfigRevision
from tests.factories import make_domain

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def tags_of(domain: Domain) -> dict[str, str]:
    return dict(DomainTag.objects.filter(domain=domain).values_list("key", "value"))


def url(domain: Domain, name: str) -> str:
    return reverse(f"domains:{name}", kwargs={"product": domain.product, "name": domain.name})


def rows(*pairs: tuple[str, str]) -> dict[str, str]:
    data = {"tag_count": str(len(pairs))}
    for index, (key, value) in enumerate(pairs):
        data |= {f"tag-{index}-key": key, f"tag-{index}-value": value}
    return data


# Rules and services


@pytest.mark.parametrize(
    ("pairs", "code"),
    [
        ([("", "v")], "key_required"),
        ([("k" * 65, "")], "key_too_long"),
        ([("aliyun-x", "")], "key_reserved"),
        ([("ACS:x", "")], "key_reserved"),
        ([("a\nb", "")], "key_invalid"),
        ([("k", "v" * 129)], "value_too_long"),
        ([("k", "http://x")], "value_invalid"),
        ([("k", "1"), ("k", "2")], "key_repeated"),
    ],
)
def test_each_rule_has_its_code(pairs, code):
    with pytest.raises(ValidationError) as caught:
        validate_tags(pairs)
    assert [error.code for errors in caught.value.error_dict.values() for error in errors] == [code]


def test_keys_and_values_are_trimmed_and_a_value_may_be_empty():
    assert validate_tags([(" env ", " prod "), ("k" * 64, "")]) == {"env": "prod", "k" * 64: ""}


def test_adding_is_all_or_nothing_and_logged_without_a_revision(alpha, alice):
    full, empty = make_domain(account=alpha), make_domain(account=alpha)
    domain_tags_add(domains=[full], tags={f"k{i}": "" for i in range(20)}, context=ChangeContext(alice))
    with pytest.raises(ValidationError) as caught:
        domain_tags_add(domains=[empty, full], tags={"new": "1"}, context=ChangeContext(alice))
    assert caught.value.error_dict["tags"][0].code == "too_many"
    assert tags_of(empty) == {}
    assert OperationLog.objects.filter(action="domain_tags.update").count() == 1
    assert not ConfigRevision.objects.exists()


def test_removing_and_replacing_write_only_what_changes(alpha, alice):
    domain = make_domain(account=alpha)
    context = ChangeContext(alice)
    domain_tags_add(domains=[domain], tags={"a": "1", "b": "2"}, context=context)
    domain_tags_remove(domains=[domain], keys=["a", "zz"], context=context)
    assert tags_of(domain) == {"b": "2"}
    domain_tags_replace(domain=domain, tags={"b": "2"}, context=context)  # nothing changes: not logged
    domain_tags_replace(domain=domain, tags={"c": "3"}, context=context)
    assert tags_of(domain) == {"c": "3"}
    domain_tags_remove(domains=[domain], keys=None, context=context)
    assert tags_of(domain) == {}
    assert OperationLog.objects.filter(action="domain_tags.update").count() == 4


# The Tags section and its editor


def test_the_owner_sees_the_tags_and_the_editor(client, alice, cdn_domain):
    DomainTag.objects.create(domain=cdn_domain, key="env", value="prod")
    client.force_login(alice)
    page = client.get(url(cdn_domain, "basic")).content.decode()
    assert 'data-tag="env"' in page and "Edit tags" in page
    assert 'data-tag="env"' in client.get(url(cdn_domain, "tags_section")).content.decode()
    dialog = client.get(url(cdn_domain, "tags_edit")).content.decode()
    assert 'value="env"' in dialog and 'value="prod"' in dialog
    assert 'name="tag_count" value="2"' in dialog  # the tag, and an empty row for a new one


def test_saving_replaces_the_tags_closes_the_dialog_and_logs_it(client, alice, cdn_domain):
    DomainTag.objects.create(domain=cdn_domain, key="old", value="1")
    client.force_login(alice)
    response = client.post(
        url(cdn_domain, "tags_edit"), rows(("env", "prod"), ("", ""), ("team", "")), **HTMX
    )
    assert response.status_code == 204
    trigger = json.loads(response["HX-Trigger"])
    assert (
        set(trigger) == {"tags-saved", "console-notice"} and trigger["console-notice"]["message"] == "Saved."
    )
    assert tags_of(cdn_domain) == {"env": "prod", "team": ""}
    entry = OperationLog.objects.get(action="domain_tags.update")
    assert (entry.source, entry.before, entry.after) == (
        Source.CONSOLE,
        {"tags": {"old": "1"}},
        {"tags": {"env": "prod", "team": ""}},
    )


def test_a_wrong_row_keeps_the_dialog_open_with_its_message(client, alice, cdn_domain):
    client.force_login(alice)
    response = client.post(url(cdn_domain, "tags_edit"), rows(("env", "prod"), ("acs:x", "1")), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "starts with aliyun or acs:, which are reserved." in body
    assert 'id="id_tag-1-key" name="tag-1-key" value="acs:x"' in body and 'aria-invalid="true"' in body
    assert tags_of(cdn_domain) == {}


def test_add_tag_adds_a_row_without_saving(client, alice, cdn_domain):
    client.force_login(alice)
    response = client.post(url(cdn_domain, "tags_edit"), rows(("env", "prod")) | {"add_tag": "1"}, **HTMX)
    assert 'name="tag_count" value="2"' in response.content.decode()
    assert tags_of(cdn_domain) == {}


def test_more_than_twenty_tags_are_refused_in_the_dialog(client, alice, cdn_domain):
    client.force_login(alice)
    data = rows(*[(f"k{i}", "") for i in range(21)])
    response = client.post(url(cdn_domain, "tags_edit"), data, **HTMX)
    assert "A domain has at most 20 tags" in response.content.decode()
    assert tags_of(cdn_domain) == {}


@pytest.mark.parametrize("page", ["tags_section", "tags_edit"])
def test_a_stranger_gets_404(client, charlie, cdn_domain, page):
    client.force_login(charlie)
    assert client.get(url(cdn_domain, page)).status_code == 404
    assert client.post(url(cdn_domain, "tags_edit"), rows(("env", "x"))).status_code == 404
    assert tags_of(cdn_domain) == {}


def test_a_viewer_sees_the_tags_but_cannot_change_them(client, bob, cdn_domain):
    DomainTag.objects.create(domain=cdn_domain, key="env", value="prod")
    client.force_login(bob)
    page = client.get(url(cdn_domain, "basic")).content.decode()
    assert 'data-tag="env"' in page and "Edit tags" not in page
    assert client.post(url(cdn_domain, "tags_edit"), rows(("env", "x")), **HTMX).status_code == 403
    assert tags_of(cdn_domain) == {"env": "prod"}


def test_the_editor_needs_the_csrf_token(alice, cdn_domain):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(url(cdn_domain, "tags_edit"), rows(("env", "x"))).status_code == 403


def test_a_domain_without_tags_says_so(client, alice, cdn_domain):
    client.force_login(alice)
    assert 'id="tags-empty"' in client.get(url(cdn_domain, "basic")).content.decode()


def test_the_page_uses_no_inline_script_or_handler(client, alice, cdn_domain):
    client.force_login(alice)
    for name in ("basic", "tags_edit"):
        body = client.get(url(cdn_domain, name)).content.decode().lower()
        assert "<script>" not in body and " onclick=" not in body and " style=" not in body


def test_tags_go_with_their_domain(alpha, alice):
    domain = make_domain(account=alpha)
    domain_tags_add(domains=[domain], tags={"env": "x"}, context=ChangeContext(alice))
    domain.delete()
    assert not DomainTag.objects.exists()


def test_the_operation_log_reads_a_tag_change(client, alice, cdn_domain):
    domain_tags_add(domains=[cdn_domain], tags={"env": "prod"}, context=ChangeContext(alice))
    client.force_login(alice)
    body = client.get(url(cdn_domain, "operations")).content.decode()
    assert "Modify tags" in body and "prod" in body
