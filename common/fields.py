"""Model fields of general use."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings
from django.db import models

from common.crypto import Sealer, SecretUnreadable

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4096)
def _open(sealer: Sealer, token: str, secret_key: str, fallbacks: tuple[str, ...]) -> str:
    # Keyed on the keys too: a clear value is never served once the key that sealed it is gone.
    return sealer.open(token)


class SealedTextField(models.TextField):
    """Text kept sealed in the database (`common.crypto`, with this field's salt and info); in Python, the
    clear value. Lookups by value do not work (each seal differs); a value that cannot be opened (SECRET_KEY
    changed without SECRET_KEY_FALLBACKS) reads as "" and is logged."""

    def __init__(self, *args: Any, salt: bytes, info: bytes, **kwargs: Any) -> None:
        self.sealer = Sealer(salt=salt, info=info)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, kwargs | {"salt": self.sealer.salt, "info": self.sealer.info}

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        try:
            return _open(
                self.sealer, value, settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()))
            )
        except SecretUnreadable:
            logger.error("A sealed %s cannot be opened (was SECRET_KEY changed?)", self.name)
            return ""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return self.sealer.seal(value) if value else value
