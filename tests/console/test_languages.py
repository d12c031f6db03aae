"""English and Simplified Chinese: the header's switch, the pages and messages in Chinese, the APIs'
languages, and a catalogue that is complete, compiled and keeps every placeholder."""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from alibaba_api import credentials
from domains.models import OriginFetchSettings
from tests import factories
from tests.alibaba_api.conftest import SignedClient, functions, make_key
from tests.conftest import require

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*\w+\s*\}\}")


def switch_language(client: Client, language: str, next_url: str) -> None:
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url


def test_the_log_on_page_offers_both_languages(client):
    page = client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert '<button type="submit" name="language" value="zh-hans" lang="zh-hans"' in page
    assert "简体中文" in page and 'aria-pressed="true">English</button>' in page


def test_switching_to_chinese_is_remembered_and_returns_to_the_same_page(client):
    switch_language(client, "zh-hans", "/login/?next=/")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert '<label for="id_username">用户名</label>' in page
    assert 'aria-pressed="true">简体中文</button>' in page


def test_the_console_pages_speak_the_vendors_chinese_terms(client, alice, cdn_domain):
    client.force_login(alice)
    listing_url = reverse("domains:list", kwargs={"product": "cdn"})
    switch_language(client, "zh-hans", listing_url)
    listing = client.get(listing_url).content.decode()
    for term in ("域名管理", "管理", "操作", "创建时间", "退出登录"):
        assert term in listing
    tab = client.get(
        reverse("origin_fetch:tab", kwargs={"product": "cdn", "name": cdn_domain.name})
    ).content.decode()
    for term in ("回源配置", "回源SNI", "修改配置", "回源协议", "回源HOST", "未开启"):
        assert term in tab


def test_the_dialog_explains_a_refused_wildcard_in_chinese(client, alice, cdn_domain):
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    url = reverse("origin_fetch:origin_sni_dialog", kwargs={"product": "cdn", "name": cdn_domain.name})
    version = OriginFetchSettings.objects.get(domain=cdn_domain).version
    response = client.post(
        url, {"version": version, "enabled": "on", "name": "*.example.com"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "不支持泛域名" in response.content.decode()
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_the_rest_api_answers_in_the_language_the_client_asks_for(alice, cdn_domain):
    token = factories.make_token(alice)
    url = f"/api/v1/domains/{cdn_domain.name}/origin-fetch/origin-sni/"
    body = {"enabled": True, "name": "*.alpha.example"}

    def message(**headers: str) -> str:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.put(url, body, format="json", **headers)
        assert response.status_code == 400
        return response.json()["errors"]["name"][0]["message"]

    assert message().startswith("Wildcard domain names are not supported")
    assert message(HTTP_ACCEPT_LANGUAGE="zh-Hans-CN,zh;q=0.9").startswith("不支持泛域名")


def test_the_alibaba_compatible_api_answers_in_english_whatever_the_caller_prefers(alice, cdn_domain):
    credentials.forget()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    api = SignedClient(client, make_key(alice))
    answer = api.call(
        "BatchSetCdnDomainConfig",
        {
            "DomainNames": cdn_domain.name,
            "Functions": functions("https_origin_sni", enabled="on", https_origin_sni="*.a.com"),
        },
    )
    assert (answer.status, answer.code) == (400, "InvalidArgValue.Malformed")
    assert "Wildcard domain names are not supported" in answer.body["Message"]
    credentials.forget()


def catalogue_entries(po: Path = CATALOGUE / "django.po") -> list[tuple[str, str, str, bool]]:
    """(context, msgid, msgstr, plural) of each .po entry but the header; plural forms joined by NUL."""
    text = po.read_text(encoding="utf-8")
    entries = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            else:
                fields[key] += line.strip()[1:-1]
        if fields.get("msgid"):
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries.append(
                (fields.get("msgctxt", ""), fields["msgid"], "\x00".join(strs), "msgid_plural" in fields)
            )
    return entries


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy():
    entries = catalogue_entries()
    assert len(entries) > 200
    assert [msgid for _ctx, msgid, msgstr, _plural in entries if not msgstr.strip("\x00")] == []
    assert "#, fuzzy" not in (CATALOGUE / "django.po").read_text(encoding="utf-8")


def test_translations_keep_every_placeholder_and_have_one_plural_form():
    for _ctx, msgid, msgstr, _plural in catalogue_entries():
        for form in msgstr.split("\x00"):
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(msgid)), msgid
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    assert catalog.ngettext("%(total)s domain name", "%(total)s domain names", 1) == "共 %(total)s 个域名"
    assert catalog.ngettext("%(total)s domain name", "%(total)s domain names", 5) == "共 %(total)s 个域名"
    assert "nplurals=1; plural=0;" in catalog.info()["plural-forms"]


def unescape(text: str) -> str:
    """A .po string's backslash escapes (\\", \\n) undone; other characters kept as they are."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    for ctx, msgid, msgstr, plural in catalogue_entries():
        msgid, msgstr = (unescape(text) for text in (msgid, msgstr))
        if plural:
            found = catalog.ngettext(msgid, msgid, 1)
        else:
            found = catalog.pgettext(ctx, msgid) if ctx else catalog.gettext(msgid)
        assert found == msgstr.split("\x00")[0], f"run `make messages`: {msgid!r} is stale in django.mo"


def messages_ignored() -> list[str]:
    """The folders `make messages` leaves out (its MESSAGES_IGNORE): the test collects the same strings."""
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^MESSAGES_IGNORE := (.*)$", makefile, re.MULTILINE)
    assert line, "the Makefile's messages target lost its MESSAGES_IGNORE"
    return re.findall(r"--ignore=(\S+)", line.group(1))


def test_every_string_of_the_code_is_in_the_catalogue_and_translated(tmp_path, monkeypatch, settings):
    """`make messages` run on a copy: a string wrapped in the code but missing from django.po, left
    untranslated or only fuzzily matched by msgmerge, fails here, and so does an entry the code no longer
    uses."""
    require(
        bool(shutil.which("xgettext") and shutil.which("msgmerge")), "needs gettext: apt-get install gettext"
    )
    base = Path(settings.BASE_DIR)
    ignored = messages_ignored()
    # A tree of links to the sources and a copy of the catalogue: makemessages writes only into the copy.
    for entry in base.iterdir():
        if entry.name not in {*ignored, "locale"} and not entry.name.startswith("."):
            (tmp_path / entry.name).symlink_to(entry)
    shutil.copytree(CATALOGUE, tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command(
        "makemessages",
        locale=["zh_Hans"],
        no_obsolete=True,
        add_location="file",
        symlinks=True,
        ignore_patterns=ignored,
        verbosity=0,
    )
    collected = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    found = {(ctx, msgid): msgstr for ctx, msgid, msgstr, _plural in catalogue_entries(collected)}
    committed = {(ctx, msgid) for ctx, msgid, _msgstr, _plural in catalogue_entries()}
    assert len(found) > 200
    assert sorted(found.keys() - committed) == [], (
        "wrapped in the code, missing from django.po: make messages"
    )
    assert sorted(committed - found.keys()) == [], "no longer in the code: make messages drops them"
    assert sorted(key for key, msgstr in found.items() if not msgstr.strip("\x00")) == []
    assert "#, fuzzy" not in collected.read_text(encoding="utf-8")
