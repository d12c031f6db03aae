from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Accelerated domains"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.operation_log import describe
        from domains.models import Domain, Origin, OriginFetchSettings, VerifiedRoot
        from domains.publishing import domains_follow_delivery
        from edge.signals import delivery_state_changed

        delivery_state_changed.connect(domains_follow_delivery, dispatch_uid="domains.follow_delivery")
        describe(
            actions={
                "domain.create": _("Add domain name"),
                "domain.enable": _("Enable domain name"),
                "domain.disable": _("Disable domain name"),
                "domain.delete": _("Delete domain name"),
                "origin.add": _("Add origin"),
                "origin.update": _("Modify origin"),
                "origin.remove": _("Remove origin"),
                "origins.replace": _("Modify origins"),
                "domain_tags.update": _("Modify tags"),
                "domain_root.verify": _("Verify root domain"),
                "domain_root.release": _("Release root domain"),
            },
            containers={"settings": OriginFetchSettings, "origins": Origin},
            models=(OriginFetchSettings, Domain, Origin, (VerifiedRoot, frozenset({"root", "method"}))),
            keys={"tags": _("tags")},
            subjects={"origin.": "address", "domain_root.": "root"},
        )
