"""Encryption at rest of short secrets: Fernet, with keys derived from SECRET_KEY by HKDF-SHA256.

Each kind of secret has its own salt and info (`Sealer`), so a value sealed for one purpose never opens as
another. Values are sealed with SECRET_KEY and opened with it or any key of SECRET_KEY_FALLBACKS, so the
secret key can be rotated: re-save a value to seal it with the new key.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


@dataclass(frozen=True)
class Sealer:
    salt: bytes
    info: bytes

    def derive_key(self, secret_key: str) -> bytes:
        """A Fernet key (urlsafe base64 of 32 bytes) derived from a Django SECRET_KEY."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=self.salt, info=self.info)
        return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))

    def fernet(self) -> MultiFernet:
        """Encrypts with SECRET_KEY; decrypts with it or any key of SECRET_KEY_FALLBACKS."""
        return _fernet(self, settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))

    def seal(self, secret: str) -> str:
        return self.fernet().encrypt(secret.encode()).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self.fernet().decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise SecretUnreadable("The secret was encrypted with a key this server no longer has.") from exc


@functools.cache
def _fernet(sealer: Sealer, secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(sealer.derive_key(key)) for key in (secret_key, *fallbacks)])
