from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Tenancy: accounts, their members and roles, the operation log and who made a change."""

    name = "accounts"
    verbose_name = "Accounts and operation log"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.utils.translation import gettext_lazy as _

        from accounts.lockout import user_locked_out as record_lockout
        from accounts.models import Membership
        from accounts.operation_log import describe

        user_locked_out.connect(record_lockout, dispatch_uid="accounts.lockout")

        describe(
            actions={
                "membership.add": _("Add user"),
                "membership.role_change": _("Change role"),
                "membership.remove": _("Remove user"),
                "user.locked_out": _("Log-on locked after failed attempts"),
            },
            models=((Membership, frozenset({"role"})),),
            keys={
                "user": _("user"),
                "failures": _("failed attempts"),
                "minutes": _("locked for (minutes)"),
            },
            subjects={"membership.": "user", "user.": "user"},
        )
