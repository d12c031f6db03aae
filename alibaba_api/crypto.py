"""Encryption at rest of AccessKey secrets (`common.crypto`, with this purpose's own derived key)."""

from __future__ import annotations

from common.crypto import Sealer, SecretUnreadable

__all__ = ["SecretUnreadable", "decrypt_secret", "derive_key", "encrypt_secret"]

_SEALER = Sealer(salt=b"cdn-console/alibaba_api", info=b"access-key-secret/fernet/v1")


def derive_key(secret_key: str) -> bytes:
    """A Fernet key (urlsafe base64 of 32 bytes) derived from a Django SECRET_KEY."""
    return _SEALER.derive_key(secret_key)


def encrypt_secret(secret: str) -> str:
    return _SEALER.seal(secret)


def decrypt_secret(token: str) -> str:
    return _SEALER.open(token)
