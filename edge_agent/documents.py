"""Shape checks of the documents a push carries; a batch with one bad document is refused whole."""

from __future__ import annotations

import re
from typing import Any

POLICIES = ("follow", "http", "https")
HOST_NAME = re.compile(r"(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


class DocumentError(ValueError):
    """A document is malformed; the message names the domain and the field."""


def _need(condition: object, where: str, what: str) -> None:
    if not condition:
        raise DocumentError(f"{where}: {what}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _port(value: Any) -> bool:
    return _is_int(value) and 1 <= value <= 65535


def check_document(doc: Any, index: int) -> dict[str, Any]:
    """Return `doc` if it is a well-formed full document or tombstone; DocumentError names the field."""
    where = f"domains[{index}]"
    _need(isinstance(doc, dict), where, "must be an object")
    domain = doc.get("domain")
    _need(isinstance(domain, str) and 0 < len(domain) <= 253, where, "'domain' must be a non-empty name")
    _need(HOST_NAME.fullmatch(domain), where, f"'domain' is not a host name: {domain!r}")
    where = f"domains[{index}] ({domain})"
    _need(_is_int(doc.get("revision")) and doc["revision"] >= 1, where, "'revision' must be an integer >= 1")
    _need(isinstance(doc.get("deleted", False), bool), where, "'deleted' must be true or false")
    if doc.get("deleted") is True:
        return doc
    _need(doc.get("schema") == 1, where, "'schema' must be 1")
    _need(
        isinstance(doc.get("product"), str) and doc["product"], where, "'product' must be a non-empty string"
    )
    _need(isinstance(doc.get("enabled"), bool), where, "'enabled' must be true or false")
    origins = doc.get("origins")
    _need(isinstance(origins, list), where, "'origins' must be a list")
    for n, origin in enumerate(origins):
        at = f"{where} origins[{n}]"
        _need(isinstance(origin, dict), at, "must be an object")
        _need(origin.get("type") in ("ipaddr", "domain", "oss"), at, "'type' must be ipaddr, domain or oss")
        _need(isinstance(origin.get("address"), str) and origin["address"], at, "'address' is required")
        _need(_port(origin.get("port")), at, "'port' must be 1-65535")
        _need(_is_int(origin.get("weight")), at, "'weight' must be an integer")
        _need(_is_int(origin.get("priority")), at, "'priority' must be an integer")
        _need(origin.get("sni") is None or isinstance(origin["sni"], str), at, "'sni' must be a name or null")
        _need(isinstance(origin.get("sni_source", ""), str), at, "'sni_source' must be a string")
    scheme = doc.get("forward_scheme")
    _need(isinstance(scheme, dict), where, "'forward_scheme' must be an object")
    _need(scheme.get("policy") in POLICIES, where, "'forward_scheme.policy' must be follow, http or https")
    _need(_port(scheme.get("http_port")) and _port(scheme.get("https_port")), where, "ports must be 1-65535")
    _need(isinstance(doc.get("origin_host"), str), where, "'origin_host' must be a string")
    sni = doc.get("origin_sni")
    _need(isinstance(sni, dict), where, "'origin_sni' must be an object")
    _need(isinstance(sni.get("enabled"), bool), where, "'origin_sni.enabled' must be true or false")
    _need(isinstance(sni.get("name"), str), where, "'origin_sni.name' must be a string")
    _need(not (sni["enabled"] and not sni["name"]), where, "'origin_sni.name' is required when enabled")
    verify = doc.get("verify_origin")
    _need(
        isinstance(verify, dict) and isinstance(verify.get("enabled"), bool), where, "'verify_origin' is bad"
    )
    names = verify.get("common_names", [])
    _need(
        isinstance(names, list) and all(isinstance(name, str) for name in names),
        where,
        "'verify_origin.common_names' must be a list of strings",
    )
    return doc


def check_batch(payload: Any) -> list[dict[str, Any]]:
    """The checked documents of a push; a DocumentError refuses the whole batch."""
    _need(isinstance(payload, dict), "body", "must be a JSON object")
    docs = payload.get("domains")
    _need(isinstance(docs, list), "body", "'domains' must be a list")
    checked = [check_document(doc, index) for index, doc in enumerate(docs)]
    names = [doc["domain"] for doc in checked]
    _need(len(names) == len(set(names)), "body", "a domain appears twice in one batch")
    return checked
