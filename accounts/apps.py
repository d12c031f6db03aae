from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Tenancy: accounts, their members and roles, the operation log and who made a change."""

    name = "accounts"
    verbose_name = "Accounts and operation log"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.models import Membership
        from accounts.operation_log import describe

        describe(
            actions={
                "membership.add": _("Add user"),
                "membership.role_change": _("Change role"),
                "membership.remove": _("Remove user"),
            },
            models=((Membership, frozenset({"role"})),),
            keys={"user": _("user")},
            subjects={"membership.": "user"},
        )
