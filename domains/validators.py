"""Host-name and origin rules (SPEC.md §4.1, §4.2, §4.4), shared by every path that writes them.

`normalize_hostname` is the one grammar: trim, lower-case, internationalised labels to A-labels (punycode),
one trailing dot dropped; then at most 253 characters, two or more labels of 1-63 letters, digits and
hyphens, no label starting or ending with a hyphen, and a top-level label that is not all digits. Each rule
that fails raises a ValidationError with its own code and a message that names the problem.
"""

from __future__ import annotations

import ipaddress
import re

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
LABEL_RE = re.compile(r"[a-z0-9-]+")
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
WILDCARD_PREFIX = "*."


def _error(message, code: str, **params: object) -> ValidationError:  # type: ignore[no-untyped-def]
    return ValidationError(message, code=code, params=params or None)


def ip_literal(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `value` spells (bare, bracketed, or followed by a port), or None."""
    candidates = [value, value.rstrip(".")]
    if value.startswith("[") and "]" in value:
        candidates.append(value[1 : value.index("]")])
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and host.count(":") == 0:
        candidates.append(host)
    for candidate in candidates:
        try:
            return ipaddress.ip_address(candidate.split("%", 1)[0])
        except ValueError:
            continue
    return None


def _reject_url_parts(value: str) -> None:
    if any(ch.isspace() for ch in value):
        raise _error(_("Remove the spaces: a domain name cannot contain spaces."), "whitespace")
    if SCHEME_RE.match(value) or "://" in value:
        raise _error(
            _(
                "Enter the domain name only, without a scheme such as https://: "
                "for example origin.example.com."
            ),
            "scheme",
        )
    if "@" in value:
        raise _error(_("Remove the user info (the part before @): enter the domain name only."), "userinfo")
    if any(ch in value for ch in "/?#\\"):
        raise _error(
            _("Remove the path: enter the domain name only, without / or anything after it."), "path"
        )


def _to_ascii(value: str) -> str:
    """Lower-case; internationalised labels to their A-label (punycode) form."""
    if value.isascii():
        return value.lower()
    try:
        mapped = idna.uts46_remap(value, std3_rules=False, transitional=False)
        labels = [
            label if label.isascii() else idna.alabel(label).decode("ascii") for label in mapped.split(".")
        ]
    except (idna.IDNAError, UnicodeError) as exc:
        raise _error(
            _("“%(value)s” is not a valid internationalised domain name: %(reason)s."),
            "idna",
            value=value,
            reason=str(exc),
        ) from exc
    return ".".join(labels).lower()


def check_grammar(name: str) -> None:
    """Apply the length and label rules to an ASCII, lower-case name without a trailing dot."""
    if len(name) > MAX_NAME_LENGTH:
        raise _error(
            _("The name is %(length)d characters long; a domain name has at most 253."),
            "too_long",
            length=len(name),
        )
    labels = name.split(".")
    if any(label == "" for label in labels):
        raise _error(_("The name has an empty label: remove the extra dot."), "empty_label")
    if len(labels) < 2:
        raise _error(
            _("Enter a fully qualified domain name with at least two labels, such as origin.example.com."),
            "single_label",
        )
    for label in labels:
        if len(label) > MAX_LABEL_LENGTH:
            raise _error(
                _("The label “%(label)s” is %(length)d characters long; each label has at most 63."),
                "label_too_long",
                label=label[:20] + "…",
                length=len(label),
            )
        if not LABEL_RE.fullmatch(label):
            bad = sorted({ch for ch in label if not (ch.isascii() and (ch.isalnum() or ch == "-"))})
            raise _error(
                _("The label “%(label)s” contains %(chars)s: use only letters, digits and hyphens."),
                "invalid_characters",
                label=label,
                chars=" ".join(f"“{ch}”" for ch in bad),
            )
        if label.startswith("-") or label.endswith("-"):
            raise _error(
                _("The label “%(label)s” starts or ends with a hyphen, which is not allowed."),
                "hyphen",
                label=label,
            )
    if labels[-1].isdigit():
        raise _error(
            _("The top-level label “%(label)s” is all digits; a domain name ends with letters."),
            "numeric_tld",
            label=labels[-1],
        )


def normalize_hostname(raw: str, *, allow_wildcard: bool = False, allow_ip: bool = False) -> str:
    """Validate a host name (see the module docstring) and return its normalised form.

    With `allow_wildcard`, a leading `*.` (a wildcard accelerated domain) is accepted; `*` anywhere else
    never is. With `allow_ip`, an IP literal is returned in its compressed form.
    """
    value = (raw or "").strip()
    if not value:
        raise _error(_("Enter a domain name."), "required")
    _reject_url_parts(value)
    address = ip_literal(value)
    if address is not None:
        if allow_ip and str(address) in (value, value.strip("[]")):
            return str(address)
        raise _error(
            _(
                "“%(value)s” is an IP address. Enter a domain name: "
                "SNI and host names carry names, not IP addresses."
            ),
            "ip_literal",
            value=value,
        )
    wildcard = allow_wildcard and value.startswith(WILDCARD_PREFIX)
    body = value[len(WILDCARD_PREFIX) :] if wildcard else value
    if "*" in body:
        raise _error(
            _(
                "Wildcard domain names are not supported. Enter one specific domain name, "
                "such as origin.example.com."
            )
            if not allow_wildcard
            else _("A wildcard is allowed only as the whole first label, as in *.example.com."),
            "wildcard",
        )
    host, sep, port = body.rpartition(":")
    if sep and port.isdigit():
        raise _error(
            _("Remove the port “:%(port)s”: enter the domain name only; the port is set with the protocol."),
            "port",
            port=port,
        )
    if ":" in body:
        raise _error(
            _("The name contains “:”: use only letters, digits, hyphens and dots."), "invalid_characters"
        )
    name = _to_ascii(body)
    if name.endswith("."):
        name = name[:-1]
    check_grammar(name)
    if wildcard:
        name = WILDCARD_PREFIX + name
        if len(name) > MAX_NAME_LENGTH:
            raise _error(
                _("The name is %(length)d characters long; a domain name has at most 253."),
                "too_long",
                length=len(name),
            )
    return name


def validate_domain_name(raw: str) -> str:
    """An accelerated domain name: a host name, or a wildcard such as `*.example.com`."""
    return normalize_hostname(raw, allow_wildcard=True)


def validate_origin(*, type: str, address: str, port: int, priority: int, weight: int) -> dict[str, object]:
    """Validate one origin; returns the cleaned values or raises ValidationError keyed by field."""
    from domains.models import OriginPriority, OriginType
    from domains.origin_addresses import check_origin_ip

    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, object] = {"type": type, "port": port, "priority": priority, "weight": weight}
    if type not in OriginType.values:
        errors.setdefault("type", []).append(
            _error(_("Choose the origin type: IP address, domain name or OSS bucket."), "invalid_type")
        )
    elif type == OriginType.IPADDR:
        address_value = (address or "").strip()
        if address_value.startswith("[") and address_value.endswith("]"):
            # The URL form of an IPv6 address: the port is a field of its own, so the address stands alone.
            errors.setdefault("address", []).append(
                _error(
                    _("Remove the brackets: enter the IPv6 address alone, such as 2001:db8::1."),
                    "ip_brackets",
                )
            )
            address_value = address_value[1:-1]
        try:
            parsed = ipaddress.ip_address(address_value)
            if getattr(parsed, "scope_id", None) is not None:
                # A zone id names an interface of one machine: it means nothing to an edge node.
                errors.setdefault("address", []).append(
                    _error(
                        _("Remove the zone “%%%(zone)s”: enter the IPv6 address without an interface."),
                        "ip_zone",
                        zone=parsed.scope_id,
                    )
                )
            else:
                check_origin_ip(address_value, parsed)
            cleaned["address"] = str(parsed)
        except ValidationError as exc:
            errors.setdefault("address", []).append(exc)
        except ValueError:
            errors.setdefault("address", []).append(
                _error(
                    _("“%(value)s” is not an IP address. Enter an IPv4 or IPv6 address, or change the type."),
                    "invalid_ip",
                    value=address_value,
                )
            )
    else:
        try:
            cleaned["address"] = normalize_hostname(address)
        except ValidationError as exc:
            errors.setdefault("address", []).append(exc)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors.setdefault("port", []).append(_error(_("The port must be between 1 and 65535."), "port_range"))
    if priority not in OriginPriority.values:
        errors.setdefault("priority", []).append(
            _error(_("Choose the priority: primary (20) or backup (30)."), "invalid_priority")
        )
    if not isinstance(weight, int) or not 1 <= weight <= 100:
        errors.setdefault("weight", []).append(
            _error(_("The weight must be between 1 and 100."), "weight_range")
        )
    if errors:
        raise ValidationError(errors)
    return cleaned
