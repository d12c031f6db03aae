"""Copy Configuration, from the Domain Names list: one domain's back-to-origin settings onto others."""

from __future__ import annotations

import json
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.audit import ChangeContext
from domains.models import Domain
from domains.selectors import domains_for_user, get_domain_for_user
from origin_fetch.copy_services import origin_fetch_settings_copy
from origin_fetch.services import DomainValidationError

# As the vendor's batch calls: at most 50 domains at once.
COPY_LIMIT = 50
COPIED = json.dumps({"domain-list-saved": None, "domain-changed": None})


class CopyConfigForm(forms.Form):
    """The domain names to copy onto: other domains of the account and product, one per line or separated by
    commas or spaces."""

    targets = forms.CharField(
        label=_("Copy to domain names"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Other domain names of this account, one per line (at most 50)."),
    )

    def __init__(self, *args: object, source: Domain, user: object, **kwargs: object) -> None:
        self.source, self.user = source, user
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean_targets(self) -> list[Domain]:
        names = list(
            dict.fromkeys(
                n.lower().rstrip(".") for n in re.split(r"[\s,]+", self.cleaned_data["targets"]) if n
            )
        )
        if not names:
            raise ValidationError(_("Enter at least one domain name."), code="required")
        if len(names) > COPY_LIMIT:
            raise ValidationError(
                _("At most %(limit)s domain names at once."), code="too_many", params={"limit": COPY_LIMIT}
            )
        if self.source.name in names:
            raise ValidationError(
                _("%(name)s is the domain copied from."), code="self", params={"name": self.source.name}
            )
        found = {
            domain.name: domain
            for domain in domains_for_user(self.user).filter(  # type: ignore[arg-type]
                product=self.source.product, name__in=names
            )
        }
        # Another account's name reads as an unknown one: nothing is revealed about it.
        unknown = [name for name in names if name not in found]
        if unknown:
            raise ValidationError(
                _("Not a domain name of this account and product: %(names)s."),
                code="unknown",
                params={"names": ", ".join(unknown)},
            )
        return [found[name] for name in names]


@login_required
@require_http_methods(["GET", "POST"])
def copy_config_dialog(request: HttpRequest, product: str, name: str) -> HttpResponse:
    source = get_domain_for_user(request.user, name=name, product=product, write=request.method == "POST")
    form = CopyConfigForm(request.POST or None, source=source, user=request.user)
    if request.method == "POST" and form.is_valid():
        targets = form.cleaned_data["targets"]
        try:
            origin_fetch_settings_copy(
                source=source, targets=targets, context=ChangeContext.from_request(request)
            )
        except DomainValidationError as exc:
            form.add_error(
                "targets",
                _("%(name)s: %(reason)s") % {"name": exc.domain.name, "reason": " ".join(exc.messages)},
            )
        except ValidationError as exc:
            form.add_error("targets", exc)
        else:
            count = len(targets)
            messages.success(
                request,
                ngettext(
                    "The configuration of %(source)s is copied to %(count)s domain name; the edge nodes are "
                    "applying it.",
                    "The configuration of %(source)s is copied to %(count)s domain names; the edge nodes are "
                    "applying it.",
                    count,
                )
                % {"source": source.name, "count": count},
            )
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Trigger": COPIED})
            return redirect("domains:list", product=product)
    return render(request, "origin_fetch/copy_config_dialog.html", {"domain": source, "form": form})
