"""An operation log entry's before → after as a person reads it: field and choice labels in the reader's
language, whatever the shape the entry was stored in."""

from __future__ import annotations

from django.utils import translation

from accounts.models import OperationLog
from accounts.operation_log import Change, operation_changes


def changes(before: dict[str, object], after: dict[str, object]) -> list[tuple[str, str, str]]:
    return [(c.label, c.before, c.after) for c in operation_changes(OperationLog(before=before, after=after))]


def test_a_new_domain_lists_each_origin_by_its_address():
    after = {
        "name": "www.example.com",
        "product": "dcdn",
        "origins": [{"type": "ipaddr", "address": "203.0.113.10", "port": 443, "priority": 30}],
    }
    assert changes({}, after) == [
        ("Domain name", "—", "www.example.com"),
        ("Origin 203.0.113.10 · Address", "—", "203.0.113.10"),
        ("Origin 203.0.113.10 · Port", "—", "443"),
        ("Origin 203.0.113.10 · Priority", "—", "Backup"),
        ("Origin 203.0.113.10 · Type", "—", "IP address"),
        ("Product", "—", "DCDN"),
    ]
    with translation.override("zh-hans"):
        assert changes({}, after)[2:4] == [
            ("源站 203.0.113.10 · 端口", "—", "443"),
            ("源站 203.0.113.10 · 优先级", "—", "备"),
        ]


def test_a_rollback_names_the_settings_and_the_revision():
    before = {"enabled": True, "settings": {"sni_enabled": False, "forward_scheme": "http"}}
    after = {
        "enabled": True,
        "settings": {"sni_enabled": True, "forward_scheme": "https"},
        "rolled_back_to": 3,
    }
    assert changes(before, after) == [
        ("Origin protocol policy", "HTTP", "HTTPS"),
        ("Origin SNI", "off", "on"),
        ("Rolled back to revision", "—", "3"),
    ]
    with translation.override("zh-hans"):
        assert changes(before, after) == [
            ("回源协议", "HTTP", "HTTPS"),
            ("回源SNI", "关闭", "开启"),
            ("回滚到的版本", "—", "3"),
        ]


def test_a_role_change_shows_the_roles_by_name():
    assert changes({"user": "bob", "role": "viewer"}, {"user": "bob", "role": "admin"}) == [
        ("Role", "Viewer (read-only)", "Administrator")
    ]


def test_unchanged_values_are_left_out_and_unknown_keys_are_kept_as_stored():
    assert changes({"sni_name": "a", "other.thing": 1}, {"sni_name": "a", "other.thing": 2}) == [
        ("other.thing", "1", "2")
    ]
    assert operation_changes(OperationLog(before={"port": 80}, after={"port": 81})) == [
        Change("port", "Port", "80", "81")
    ]
