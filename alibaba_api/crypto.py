"""Encryption at rest of AccessKey secrets: Fernet, with keys derived from SECRET_KEY by HKDF-SHA256."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"cdn-console/alibaba_api"
_INFO = b"access-key-secret/fernet/v1"


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with SECRET_KEY or any of SECRET_KEY_FALLBACKS."""


def derive_key(secret_key: str) -> bytes:
    """A Fernet key (urlsafe base64 of 32 bytes) derived from a Django SECRET_KEY."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@cache
def _fernet(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(derive_key(key)) for key in (secret_key, *fallbacks)])


def fernet() -> MultiFernet:
    """Encrypts with SECRET_KEY; decrypts with it or any key of SECRET_KEY_FALLBACKS (key rotation)."""
    return _fernet(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt_secret(secret: str) -> str:
    return fernet().encrypt(secret.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable("The secret was encrypted with a key this server no longer has.") from exc
