from django.apps import AppConfig


class AlibabaApiConfig(AppConfig):
    name = "alibaba_api"
    verbose_name = "Alibaba-compatible API"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from alibaba_api import credentials
        from alibaba_api.models import AccessKey
        from console.models import Membership

        def forget_all(**kwargs: object) -> None:
            credentials.forget()

        # A key, its user or the user's membership changed: this process stops trusting its cached view.
        for model in (AccessKey, Membership, get_user_model()):
            for signal, event in ((post_save, "save"), (post_delete, "delete")):
                uid = f"alibaba_api.forget.{model.__name__}.{event}"
                signal.connect(forget_all, sender=model, weak=False, dispatch_uid=uid)
