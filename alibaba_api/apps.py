from django.apps import AppConfig


class AlibabaApiConfig(AppConfig):
    name = "alibaba_api"
    verbose_name = "Alibaba-compatible API"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from django.utils.translation import gettext_lazy as _

        from accounts.models import Membership
        from accounts.operation_log import describe
        from accounts.signals import membership_changed
        from alibaba_api import credentials
        from alibaba_api.models import AccessKey

        def forget_all(**kwargs: object) -> None:
            credentials.forget()

        # A key, its user or the user's membership changed: this process stops trusting its cached view.
        for model in (AccessKey, Membership, get_user_model()):
            for signal, event in ((post_save, "save"), (post_delete, "delete")):
                uid = f"alibaba_api.forget.{model.__name__}.{event}"
                signal.connect(forget_all, sender=model, weak=False, dispatch_uid=uid)

        def forget_member_keys(user: object, **kwargs: object) -> None:
            # A role changed or a member left: their keys act with what they are now, on every process.
            for key_id in AccessKey.objects.filter(user=user).values_list("access_key_id", flat=True):
                credentials.forget(key_id)

        membership_changed.connect(forget_member_keys, weak=False, dispatch_uid="alibaba_api.forget.member")

        describe(
            actions={
                "access_key.create": _("Create AccessKey"),
                "access_key.enable": _("Enable AccessKey"),
                "access_key.disable": _("Disable AccessKey"),
                "access_key.delete": _("Delete AccessKey"),
            },
            keys={"access_key_id": _("AccessKey ID")},
            subjects={"access_key.": "access_key_id"},
        )
