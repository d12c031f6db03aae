from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.audit import ChangeContext
from alibaba_api.services import access_key_create


class Command(BaseCommand):
    help = (
        "Create an AccessKey pair for a user of the Alibaba-compatible API; the secret is printed once. "
        "The same service as the console's AccessKey page: the account's operation log records it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        username = str(options["username"])
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            created = access_key_create(user=user, context=ChangeContext.system())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"AccessKey ID: {created.access_key.access_key_id}")
        self.stdout.write(f"AccessKey secret: {created.secret}")
        self.stderr.write("Store the secret now: it is shown only once.")
