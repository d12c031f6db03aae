"""Tags on the Basic Information tab: the Tags section and its editor dialog (`domains.tags` saves them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import ChangeContext
from domains.delivery_status import saved_trigger
from domains.models import MAX_TAGS, Domain
from domains.selectors import get_domain_for_user, tags_of
from domains.tags import domain_tags_replace, validate_tag_key, validate_tag_value


@dataclass
class TagRow:
    key: str = ""
    value: str = ""
    key_error: str = ""
    value_error: str = ""


@dataclass
class TagRows:
    rows: list[TagRow]
    errors: list[str] = field(default_factory=list)


def _submitted(data: QueryDict) -> list[TagRow]:
    try:
        count = min(max(int(data.get("tag_count", 0)), 0), MAX_TAGS + 1)
    except ValueError:
        count = 0
    rows = [TagRow(data.get(f"tag-{i}-key", ""), data.get(f"tag-{i}-value", "")) for i in range(count)]
    return [row for row in rows if row.key.strip() or row.value.strip()]


def _validated(rows: list[TagRow]) -> dict[str, str] | None:
    """The tags of the rows, or None when a row is wrong (each row then carries its error)."""
    tags: dict[str, str] = {}
    valid = True
    for row in rows:
        try:
            key = validate_tag_key(row.key)
            if key in tags:
                row.key_error = _("The tag key %(key)s is given more than once.") % {"key": key}
                valid = False
                continue
            tags[key] = validate_tag_value(row.value, key=key)
        except ValidationError as exc:
            message = " ".join(exc.messages)
            if "key" in exc.message_dict:
                row.key_error = message
            else:
                row.value_error = message
            valid = False
    return tags if valid else None


def _dialog(request: HttpRequest, domain: Domain, form: TagRows) -> HttpResponse:
    context = {"domain": domain, "form": form, "max_tags": MAX_TAGS, "action": request.path}
    return render(request, "domains/_tags_dialog.html", context)


@login_required
@require_GET
def domain_tags_section(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    return render(
        request,
        "domains/basic.html#tags-section",
        {"domain": domain, "tags": tags_of([domain.pk])[domain.pk]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def domain_tags_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """Edit Tags: the domain's tags as rows of key and value (an empty row is ignored); OK saves them all."""
    domain = get_domain_for_user(request.user, name=name, product=product, write=request.method == "POST")
    if request.method == "GET":
        rows = [TagRow(key, value) for key, value in tags_of([domain.pk])[domain.pk].items()]
        return _dialog(request, domain, TagRows(rows + [TagRow()] * (len(rows) < MAX_TAGS)))
    rows = _submitted(request.POST)
    if "add_tag" in request.POST:
        return _dialog(request, domain, TagRows(rows + [TagRow()] * (len(rows) < MAX_TAGS)))
    form = TagRows(rows or [TagRow()])
    tags = _validated(rows)
    if tags is not None and len(tags) > MAX_TAGS:
        form.errors.append(_("A domain has at most 20 tags; remove some."))
    elif tags is not None:
        try:
            domain_tags_replace(domain=domain, tags=tags, context=ChangeContext.from_request(request))
        except ValidationError as exc:
            form.errors.extend(exc.messages)
        else:
            return HttpResponse(
                status=204, headers={"HX-Trigger": saved_trigger(domain, "tags-saved", deploys=False)}
            )
    return _dialog(request, domain, form)
