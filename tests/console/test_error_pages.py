"""Error pages inside the console's layout, in the reader's language, with a way back; the Django admin for
staff only; the API documentation linked from the console; viewers see Back-to-origin without Modify."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests import factories

pytestmark = pytest.mark.django_db


def in_layout(content: str) -> bool:
    return 'class="topbar"' in content and 'id="sidenav"' in content and 'href="/"' in content


def test_404_is_in_the_layout_with_a_way_back(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    content = response.content.decode()
    assert response.status_code == 404 and in_layout(content)
    assert "Page not found" in content and "Go to Domain Names" in content


def test_another_accounts_domain_is_the_same_404(client, charlie, cdn_domain):
    client.force_login(charlie)
    response = client.get(reverse("domains:basic", kwargs={"product": "cdn", "name": cdn_domain.name}))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_404_speaks_the_readers_language(client, alice):
    client.force_login(alice)
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/no-such-page/")
    content = response.content.decode()
    assert response.status_code == 404 and '<html lang="zh-hans">' in content
    assert "页面不存在" in content and "前往域名管理" in content


def test_404_for_a_visitor_who_is_not_logged_on_offers_the_log_on(client):
    content = client.get("/no-such-page/").content.decode()
    assert "Page not found" in content and 'href="/login/"' in content


def test_403_is_in_the_layout_and_says_why(client, bob, cdn_domain):
    client.force_login(bob)
    url = reverse("domains:disable", kwargs={"product": "cdn", "name": cdn_domain.name})
    response = client.post(url)
    content = response.content.decode()
    assert response.status_code == 403 and in_layout(content)
    assert "You cannot do this" in content and "Go to Domain Names" in content


def test_a_refused_csrf_token_is_explained_with_a_reload(alice, cdn_domain):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    strict.cookies["django_language"] = "zh-hans"
    url = reverse("domains:disable", kwargs={"product": "cdn", "name": cdn_domain.name})
    response = strict.post(url)
    content = response.content.decode()
    assert response.status_code == 403 and in_layout(content)
    assert "表单已过期" in content and "重新加载页面" in content


def test_400_and_500_pages_are_in_the_layout(rf, alice):
    from console import errors

    request = rf.get("/cdn/domains/")
    request.user = alice
    with translation.override("en"):
        bad, failed = errors.bad_request(request), errors.server_error(request)
    assert (bad.status_code, failed.status_code) == (400, 500)
    for response, title in ((bad, "Bad request"), (failed, "Something went wrong")):
        assert title in response.content.decode() and in_layout(response.content.decode())


def test_a_customer_who_opens_the_admin_is_sent_to_the_console(client, alice):
    client.force_login(alice)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[0] == ("/", 302)
    content = response.content.decode()
    assert "for the service&#x27;s operators" in content and "Site administration" not in content


def test_staff_reach_the_admin(client):
    get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(get_user_model().objects.get(username="operator"))
    assert client.get("/admin/").status_code == 200


def test_a_visitor_gets_the_admins_own_log_on(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_console_links_to_the_api_documentation(client, alice):
    client.force_login(alice)
    content = client.get(reverse("domains:list", kwargs={"product": "cdn"})).content.decode()
    assert f'href="{reverse("api:docs")}"' in content and "API documentation" in content


def test_a_viewer_sees_back_to_origin_read_only_without_modify(client, alice, bob, cdn_domain):
    url = reverse("origin_fetch:tab", kwargs={"product": "cdn", "name": cdn_domain.name})
    client.force_login(bob)
    content = client.get(url).content.decode()
    assert "Modify" not in content and 'id="read-only-note"' in content
    assert "Origin SNI" in content and "Origin host" in content
    client.force_login(alice)
    content = client.get(url).content.decode()
    assert content.count(">Modify<") >= 4 and 'id="read-only-note"' not in content
