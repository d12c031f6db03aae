"""Origin SNI rules (SPEC.md §4.4): the one module that the form, the services, the admin and the APIs call.

Rules 1-5 (the name) are `validate_sni_name`; rule 6 (HTTPS on port 443, also guarding later protocol
changes) is `sni_allowed` / `validate_origin_sni` / `validate_protocol_change`; rules 7 and 8 are the
notes and warnings the console shows without blocking the save.

Rule 6 with the origin protocol policy off: each origin is then fetched on its own port, over HTTPS only
when that is 443, so Origin SNI applies to the origins on port 443 and needs at least one
(`domains.documents.sni_reaches_an_origin`; origin changes keep it so, in `domains.services`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.documents import sni_reaches_an_origin
from domains.models import FOLLOW_HOST, FOLLOW_ORIGIN, OriginType, ProtocolPolicy
from domains.validators import normalize_hostname
from edge_agent.contract import ForwardScheme

REQUIRES_HTTPS = _("Origin SNI requires back-to-origin over HTTPS (port 443).")
REQUIRES_AN_ORIGIN_ON_443 = _(
    "Origin SNI requires back-to-origin over HTTPS (port 443). With the origin protocol policy off, each "
    "origin is fetched on its own port, over HTTPS only on port 443, and no origin of this domain is on port "
    "443. Add an origin on port 443, or turn the origin protocol policy on with HTTPS on port 443."
)


def validate_sni_name(raw: str) -> str:
    """Normalise an SNI name (trim, lower-case, punycode, one trailing dot dropped) and apply rules 1-5."""
    if not (raw or "").strip():
        raise ValidationError(
            _(
                "The SNI is required when Origin SNI is on: enter the domain name that the origin's "
                "certificate is issued for."
            ),
            code="required",
        )
    return normalize_hostname(raw)


def sni_allowed(
    *, policy: str, https_port: int, policy_enabled: bool = True, origin_ports: Iterable[int] = ()
) -> bool:
    """Rule 6: SNI applies only when back-to-origin uses HTTPS on port 443 (with the protocol policy off:
    to the origins on port 443, of which `origin_ports`, the domain's enabled origins' ports, needs one)."""
    # The HTTP port plays no part: nothing fetched over HTTP carries SNI.
    scheme = ForwardScheme(policy=policy, http_port=80, https_port=https_port, enabled=policy_enabled)
    return sni_reaches_an_origin(scheme=scheme, origin_ports=origin_ports)


def validate_origin_sni(
    *,
    enabled: bool,
    name: str,
    policy: str,
    https_port: int,
    policy_enabled: bool = True,
    origin_ports: Iterable[int] = (),
) -> str:
    """Validate an Origin SNI change; return the normalised name ("" when none was given).

    Errors are keyed by field: "name" for the SNI, "enabled" for the protocol rule. A name typed while
    turning SNI off is still checked, since it is kept for later.
    """
    errors: dict[str, ValidationError] = {}
    normalized = ""
    if enabled or (name or "").strip():
        try:
            normalized = validate_sni_name(name)
        except ValidationError as exc:
            errors["name"] = exc
    allowed = sni_allowed(
        policy=policy, https_port=https_port, policy_enabled=policy_enabled, origin_ports=origin_ports
    )
    if enabled and not allowed:
        errors["enabled"] = (
            ValidationError(REQUIRES_HTTPS, code="requires_https")
            if policy_enabled
            else ValidationError(REQUIRES_AN_ORIGIN_ON_443, code="requires_an_origin_on_443")
        )
    if errors:
        raise ValidationError(errors)
    return normalized


def validate_protocol_change(
    *,
    sni_enabled: bool,
    policy: str,
    https_port: int,
    policy_enabled: bool = True,
    origin_ports: Iterable[int] = (),
) -> None:
    """Rule 6 from the other side: refuse a protocol change that would break an enabled Origin SNI."""
    allowed = sni_allowed(
        policy=policy, https_port=https_port, policy_enabled=policy_enabled, origin_ports=origin_ports
    )
    if not sni_enabled or allowed:
        return
    if policy_enabled:
        error = ValidationError(
            _(
                "Origin SNI is on, and it requires back-to-origin over HTTPS (port 443). "
                "Turn off Origin SNI first, or keep HTTPS on port 443."
            ),
            code="breaks_origin_sni",
        )
        raise ValidationError({"forward_scheme": error})
    error = ValidationError(
        _(
            "Origin SNI is on, and with the origin protocol policy off no origin of this domain would be "
            "fetched over HTTPS: each origin would use its own port, and none is on port 443. Turn off "
            "Origin SNI first, or add an origin on port 443."
        ),
        code="breaks_origin_sni",
    )
    raise ValidationError({"enabled": error})


def _port(value: object, field: str) -> int:
    try:
        port = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535 or isinstance(value, bool):
        raise ValidationError(
            {field: ValidationError(_("The port must be a number from 1 to 65535."), code="port_range")}
        )
    return port


def validate_protocol(
    *, policy: str, http_port: object, https_port: object, enabled: bool = True
) -> dict[str, object]:
    """The origin protocol policy (follow, http, https) and its two ports, on or off (both kept when off)."""
    if policy not in ProtocolPolicy.values:
        raise ValidationError(
            {
                "forward_scheme": ValidationError(
                    _("Choose the origin protocol: Match client (follow), HTTP or HTTPS."),
                    code="invalid_policy",
                )
            }
        )
    return {
        "forward_scheme_enabled": bool(enabled),
        "forward_scheme": policy,
        "http_port": _port(http_port, "http_port"),
        "https_port": _port(https_port, "https_port"),
    }


def validate_origin_host(raw: str, *, domain_name: str = "", followed: bool = False) -> str:
    """The Host header sent to origins: a domain name, or empty for the accelerated domain itself.

    `followed`: an origin of the domain sends the origin host as its SNI (ali_follow_host), so the
    resulting host must be a specific name, never the wildcard `domain_name` itself.
    """
    if not (raw or "").strip():
        if followed and "*" in domain_name:
            error = ValidationError(
                FOLLOW_HOST_WILDCARD, code="follow_host_wildcard", params={"host": domain_name}
            )
            raise ValidationError({"origin_host": error})
        return ""
    try:
        return normalize_hostname(raw)
    except ValidationError as exc:
        raise ValidationError({"origin_host": exc}) from None


# The origin host's types, as the vendor's console offers them: the accelerated domain (the default), the
# domain of an origin (a domain-name origin, or an OSS bucket's domain), or a custom name.
HOST_DOMAIN, HOST_ORIGIN, HOST_CUSTOM = "domain", "origin", "custom"
HOST_TYPES = (HOST_DOMAIN, HOST_ORIGIN, HOST_CUSTOM)


def origin_host_names(origins: Iterable[Any]) -> list[str]:
    """The origins whose domain can be the origin host: domain-name and OSS origins, primary ones first."""
    named = [o for o in origins if o.type in (OriginType.DOMAIN, OriginType.OSS)]
    return [o.address for o in sorted(named, key=lambda o: (o.priority, o.pk or 0))]


def origin_host_type_of(origin_host: str, origins: Iterable[Any]) -> str:
    """Which type a stored origin host reads as: empty is the accelerated domain; an origin's address is
    that origin's domain; any other name is custom."""
    if not origin_host:
        return HOST_DOMAIN
    return HOST_ORIGIN if origin_host in origin_host_names(origins) else HOST_CUSTOM


def _host_type_error(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError({"origin_host_type": ValidationError(message, code=code, params=params)})


def validate_origin_host_choice(
    *, host_type: str, host: str, domain_name: str, origins: Iterable[Any]
) -> str:
    """The origin host that a type and a name give (then checked by `validate_origin_host`).

    `domain`: the accelerated domain (stored empty); a name given with it is refused rather than ignored.
    `origin`: one of the domain's domain-name or OSS origins (`host` picks which; the only one if empty);
    refused when every origin is an IP address, as the vendor's console greys the choice out.
    `custom`: `host`, which is required.
    """
    raw = (host or "").strip().lower().rstrip(".")
    if host_type == HOST_DOMAIN:
        if raw and raw != domain_name:
            raise ValidationError(
                {
                    "origin_host": ValidationError(
                        _(
                            "The accelerated domain is sent as the origin host: clear %(host)s, or choose "
                            "Custom domain to send it."
                        ),
                        code="host_ignored",
                        params={"host": raw},
                    )
                }
            )
        return ""
    if host_type == HOST_ORIGIN:
        names = origin_host_names(origins)
        if not names:
            raise _host_type_error(
                _(
                    "Origin domain needs an origin that is a domain name or an OSS bucket: every origin of "
                    "this domain is an IP address."
                ),
                "no_origin_domain",
            )
        if not raw and len(names) == 1:
            return names[0]
        if raw not in names:
            raise _host_type_error(
                _("Choose the origin whose domain is sent: %(names)s."),
                "origin_choice",
                names=", ".join(names),
            )
        return raw
    if host_type == HOST_CUSTOM:
        if not raw:
            raise ValidationError(
                {"origin_host": ValidationError(_("Enter the custom origin host."), code="required")}
            )
        return raw
    raise _host_type_error(
        _("Choose the origin host type: %(types)s."), "invalid", types=", ".join(HOST_TYPES)
    )


COMMON_NAMES_UNSUPPORTED = _(
    "Extra acceptable common names are not supported: edge nodes verify the origin's certificate against the "
    "SNI they send, and accept no other name. Leave the list empty, and set Origin SNI (or the SNI of each "
    "origin) to the name that the origin's certificate is issued for."
)


def validate_no_common_names(raw: Iterable[str] | str) -> None:
    """Extra acceptable common names are refused (an empty list is fine): nginx, which edge nodes run,
    checks an origin's certificate against the name it sends as SNI and has no way to accept another."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    if any(str(item).strip() for item in items):
        raise ValidationError(
            {"common_names": ValidationError(COMMON_NAMES_UNSUPPORTED, code="common_names_unsupported")}
        )


def settings_clean(values: dict[str, Any], *, origin_ports: Iterable[int]) -> dict[str, Any]:
    """Every back-to-origin field validated together, by the rules each dialog applies to its own.

    `origin_ports` are the ports of the domain's enabled origins. Values saved before the protocol policy
    could be turned off have it on. Extra acceptable common names saved before they were retired are left
    out: the edge never used them.
    """
    new = validate_protocol(
        policy=values["forward_scheme"],
        http_port=values["http_port"],
        https_port=values["https_port"],
        enabled=values.get("forward_scheme_enabled", True),
    )
    name = validate_origin_sni(
        enabled=values["sni_enabled"],
        name=values["sni_name"],
        policy=new["forward_scheme"],  # type: ignore[arg-type]
        https_port=new["https_port"],  # type: ignore[arg-type]
        policy_enabled=new["forward_scheme_enabled"],  # type: ignore[arg-type]
        origin_ports=origin_ports,
    )
    return new | {
        "sni_enabled": bool(values["sni_enabled"]),
        "sni_name": name,
        "origin_host": validate_origin_host(values["origin_host"]),
        "verify_origin_cert": bool(values["verify_origin_cert"]),
    }


FOLLOW_HOST_WILDCARD = _(
    "ali_follow_host sends the origin host as SNI, and this domain's origin host is the wildcard "
    "%(host)s: SNI supports only specific domain names. Set a specific origin host first, or enter the "
    "SNI of this origin."
)


def validate_origin_sni_host(raw: str, *, origin_type: str, origin_host: str = "") -> str:
    """A per-origin SNI: empty (use the domain's), a specific name, ali_follow_origin or ali_follow_host.

    `origin_host` is the Host the domain sends its origins (its own name when none is set): following it
    must give a specific name, so a wildcard domain that keeps its own name as origin host cannot.
    """
    value = (raw or "").strip()
    if not value:
        return ""
    if value.lower() == FOLLOW_HOST:
        if "*" in origin_host:
            raise ValidationError(
                FOLLOW_HOST_WILDCARD, code="follow_host_wildcard", params={"host": origin_host}
            )
        return FOLLOW_HOST
    if value.lower() == FOLLOW_ORIGIN:
        if origin_type == OriginType.IPADDR:
            raise ValidationError(
                _(
                    "ali_follow_origin sends the origin's address as SNI, but this origin is an IP address. "
                    "Enter a domain name instead."
                ),
                code="follow_origin_ip",
            )
        return FOLLOW_ORIGIN
    return validate_sni_name(value)


def origin_sni_notes(*, origins_all_oss: bool) -> list[str]:
    """Rule 7: notes shown in the dialog, which never block saving."""
    if origins_all_oss:
        return [
            str(
                _(
                    "Every origin of this domain is an OSS bucket: OSS origins need no SNI, the edge sends "
                    "the bucket's domain name by itself. You can still set one."
                )
            )
        ]
    return []


def origin_sni_warnings(*, enabled: bool, name: str, origin_host: str) -> list[str]:
    """Rule 8: warn (not block) when the origin Host header and the SNI differ."""
    if enabled and name and origin_host and name.lower() != origin_host.lower().rstrip("."):
        return [
            str(
                _(
                    "The origin host (%(host)s) differs from the SNI (%(sni)s). Keep them the same unless "
                    "the origin expects otherwise: a mismatch can make the origin refuse the request."
                )
                % {"host": origin_host, "sni": name}
            )
        ]
    return []
