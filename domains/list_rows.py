"""The rows of the Domain Names page, made in Python: a page of 100 rows would otherwise render some 3,000
template variables, and the page must stay fast with 100,000 domains (docs/benchmarks/pages.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from domains.models import Domain, DomainStatus, Product


@dataclass(frozen=True)
class Row:
    domain: Domain
    status_label: str
    created: str  # in the current time zone, with its name
    created_iso: str
    actions: SafeString


class RowMaker:
    """Makes the rows of one page; each label is translated once per page, not once per row."""

    def __init__(self, *, product: str, list_url: str, can_write: bool) -> None:
        self.list_url, self.can_write = list_url, can_write
        self.statuses = {value: str(label) for value, label in DomainStatus.choices}
        self.manage = gettext("Configure") if product == Product.DCDN else gettext("Manage")
        self.copy = gettext("Copy Configuration")
        self.enable, self.disable, self.delete = gettext("Enable"), gettext("Disable"), gettext("Delete")

    def __call__(self, domain: Domain) -> Row:
        created = timezone.localtime(domain.created_at)
        return Row(
            domain=domain,
            status_label=self.statuses[domain.status],
            created=created.strftime("%Y-%m-%d %H:%M:%S %Z"),
            created_iso=created.isoformat(),
            actions=self._actions(domain),
        )

    def _actions(self, domain: Domain) -> SafeString:
        url = f"{self.list_url}{domain.name}/"
        link = format_html(
            '<a class="action" href="{}" aria-label="{} {}">{}</a>',
            url,
            self.manage,
            domain.name,
            self.manage,
        )
        if not self.can_write:
            return link
        running = domain.status != DomainStatus.OFFLINE
        buttons = [
            ("", "copy-configuration/", self.copy),
            ("", "disable/" if running else "enable/", self.disable if running else self.enable),
            (" btn-link-danger", "delete/", self.delete),
        ]
        return link + format_html_join(
            "",
            ' <button type="button" class="btn-link{}" hx-get="{}{}" hx-target="#dialog-root"'
            ' hx-swap="innerHTML" aria-label="{} {}">{}</button>',
            ((extra, url, path, label, domain.name, label) for extra, path, label in buttons),
        )
