from django.apps import AppConfig


class OriginFetchConfig(AppConfig):
    name = "origin_fetch"
    verbose_name = "Back-to-origin settings"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.operation_log import describe

        describe(
            actions={
                "domain.rollback": _("Roll back configuration"),
                "origin_sni.update": _("Modify Origin SNI"),
                "origin_sni_host.update": _("Modify SNI of an origin"),
                "origin_protocol.update": _("Modify origin protocol policy"),
                "origin_host.update": _("Modify origin host"),
                "origin_verification.update": _("Modify origin certificate verification"),
                "origin_fetch.copy": _("Copy configuration"),
                "origin_verification.common_names_retired": _(
                    "Extra acceptable common names removed (never used by edge nodes)"
                ),
            },
            keys={
                "origin": _("origin"),
                "rolled_back_to": _("rolled back to revision"),
                # Stored by entries written before the names were retired (domains migration 0007).
                "verify_common_names": _("extra acceptable common names"),
            },
            subjects={"origin_sni_host.": "origin"},
        )
