"""Domain Names pages: the list, Add Domain Name, and the domain's management pane (its Basic Information
sections and dialogs are in `domains.basic_info_views`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import account_for_user_rw, can_write
from accounts.audit import ChangeContext
from accounts.models import Account
from accounts.operation_log import LOG_PAGE_SIZE, operation_rows
from accounts.selectors import operations_for_user
from domains.forms import DomainAddForm, DomainFilterForm, OriginForm, origin_rows, origin_rows_redrawn
from domains.list_rows import RowMaker
from domains.models import Product
from domains.ownership import file_urls, root_of, txt_record_name, verification_token
from domains.root_services import domain_root_verify
from domains.selectors import DomainPaginator, domain_list_for_user, get_domain_for_user, tags_of
from domains.services import domain_create
from domains.validators import validate_domain_name
from edge.selectors import delivery_progress

# A search counts its matches up to this many: past it, the page says "more than" and asks to refine it.
SEARCH_COUNT_LIMIT = 10_000


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("domains:list", product=Product.CDN)


@login_required
@require_GET
def domain_list(request: HttpRequest, product: str) -> HttpResponse:
    filters = DomainFilterForm(request.GET)
    values = filters.values()
    domains = domain_list_for_user(
        request.user,
        product=product,
        query=values["q"],
        match=values["match"],
        status=values["status"],
        ordering=values["ordering"],
    )
    count_limit = SEARCH_COUNT_LIMIT if values["q"] else None
    page = DomainPaginator(domains, values["size"], count_limit=count_limit).get_page(request.GET.get("page"))
    params = {key: value for key, value in values.items() if value != DomainFilterForm.DEFAULTS[key]}
    make_row = RowMaker(
        product=product,
        list_url=reverse("domains:list", kwargs={"product": product}),
        can_write=can_write(request.user),
    )
    context = {
        "product": product,
        "page": page,
        "rows": [make_row(domain) for domain in page],
        "filters": filters,
        "values": values,
        "filtered": bool(values["q"] or values["status"]),
        "query_string": urlencode(params),
        # What the table reloads after an action changed its rows: the same filters and page.
        "refresh_url": "?" + urlencode(params | {"page": page.number}),
    }
    template = (
        "domains/list.html#domain-table" if request.htmx and request.htmx.target == "domain-table" else None
    )
    return render(request, template or "domains/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def domain_add(request: HttpRequest, product: str) -> HttpResponse:
    """Add Domain Name: the domain, its business type and region, and one or more origins.

    The service validates everything and saves all or nothing; its errors go next to their fields.
    """
    account = account_for_user_rw(request.user)
    if request.method == "POST" and ("add_origin" in request.POST or "remove_origin" in request.POST):
        # "Add origin" and "Remove origin n" redraw the form with one row more or less; they save nothing.
        form = DomainAddForm(initial=request.POST.dict(), product=product)
        rows = origin_rows_redrawn(
            request.POST,
            add="add_origin" in request.POST,
            remove=_int_or_none(request.POST.get("remove_origin")),
        )
        context = {"product": product, "form": form, "rows": rows, "origins_errors": []}
        return render(request, "domains/add.html", context)

    data = request.POST if request.method == "POST" else None
    form = DomainAddForm(data, product=product)
    rows = origin_rows(data)
    origins_errors: list[str] = []
    context = {"product": product, "form": form, "rows": rows, "origins_errors": origins_errors}
    rows_valid = all([row.is_valid() for row in rows])
    if data is not None and form.is_valid() and "verify" in data:
        # Verify (DNS record or file) the root, then add the domain as Submit would.
        try:
            context["verified"] = domain_root_verify(
                account=account,
                name=form.cleaned_data["name"],
                method=data["verify"],
                context=ChangeContext.from_request(request),
            )
        except ValidationError as exc:
            context["ownership"] = ownership_of(account, form.cleaned_data["name"])
            context["verify_errors"] = [m for errors in exc.message_dict.values() for m in errors]
            return render(request, "domains/add.html", context)
    if data is not None and form.is_valid() and rows_valid:
        try:
            domain = domain_create(
                account=account,
                name=form.cleaned_data["name"],
                product=product,
                business_type=form.cleaned_data["business_type"],
                coverage=form.cleaned_data["coverage"],
                description=form.cleaned_data["description"],
                origins=[row.origin_input() for row in rows],
                context=ChangeContext.from_request(request),
            )
        except ValidationError as exc:
            name = form.cleaned_data["name"]
            origins_errors += _add_service_errors(form, rows, exc)
            if any(error.code == "owner_verify" for error in exc.error_dict.get("name", [])):
                context["ownership"] = ownership_of(account, name)
        else:
            return redirect("domains:basic", product=product, name=domain.name)
    return render(request, "domains/add.html", context)


def ownership_of(account: Account, name: str) -> dict[str, object] | None:
    """What the verification panel shows: the root of `name`, the TXT record and the file to publish."""
    try:
        root = root_of(validate_domain_name(name))
    except ValidationError:
        return None
    if root is None:
        return None
    return {
        "root": root,
        "record": txt_record_name(root),
        "token": verification_token(account),
        "urls": file_urls(root),
    }


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _add_service_errors(form: DomainAddForm, rows: list[OriginForm], exc: ValidationError) -> list[str]:
    """Put each error of `domain_create` next to its field (`origins.2.port` goes to the third row's port);
    returns the errors about the origins as a whole (none given, too many), shown above the rows."""
    about_origins: list[str] = []
    for key, errors in exc.error_dict.items():
        head, _dot, rest = key.partition(".")
        index, _dot, field = rest.partition(".")
        if (
            head == "origins"
            and index.isdigit()
            and int(index) < len(rows)
            and field in rows[int(index)].fields
        ):
            rows[int(index)].add_error(field, errors)
        elif head == "origins":
            about_origins.extend(message for error in errors for message in error.messages)
        else:
            form.add_error(key if key in form.fields else None, errors)
    return about_origins


@login_required
@require_GET
def domain_basic(request: HttpRequest, product: str, name: str) -> HttpResponse:
    domain = get_domain_for_user(request.user, name=name, product=product)
    context = {
        "domain": domain,
        "origins": list(domain.origins.all()),
        "tags": tags_of([domain.pk])[domain.pk],
        "active_tab": "basic",
    }
    return render(request, "domains/basic.html", context)


@login_required
@require_GET
def domain_status(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """The status badge and delivery progress; polls itself while edge nodes are applying a change."""
    domain = get_domain_for_user(request.user, name=name, product=product)
    applied, total, nodes = delivery_progress(domain_id=domain.pk, number=domain.config_revision)
    context = {"domain": domain, "applied": applied, "total": total, "nodes": nodes}
    return render(request, "domains/_status.html", context)


@login_required
@require_GET
def domain_operation_log(request: HttpRequest, product: str, name: str) -> HttpResponse:
    """The Operation Log tab of a domain's management pane: the account's log, for this domain only."""
    domain = get_domain_for_user(request.user, name=name, product=product)
    entries = operations_for_user(request.user).filter(domain=domain)
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "domain": domain,
        "page": page,
        "rows": operation_rows(list(page.object_list)),
        "query": "",
        "active_tab": "operations",
    }
    return render(request, "domains/operation_log.html", context)
