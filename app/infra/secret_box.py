"""Webhook secrets at rest: AES-256-GCM, a random 96-bit nonce per seal, the row as associated
data (a ciphertext copied to another row does not open).

Signing needs the secret itself, so it cannot be hashed like an API key. The key is
`LAUREL_SECRET_KEY` (base64 of 32 bytes), shared by every instance; without it, a key file
(`LAUREL_SECRET_KEY_FILE`) is read, or created with mode 0600 the first time a secret is sealed.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.webhooks.ports import SecretUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12


def decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"{source} is not base64") from error
    if len(key) != KEY_BYTES:
        raise ValueError(f"{source} must be base64 of {KEY_BYTES} bytes")
    return key


class SecretKey:
    """Where the key comes from; the file is only created when something is first sealed."""

    def __init__(self, configured: str | None, key_file: str) -> None:
        self._key = decode_key(configured, "LAUREL_SECRET_KEY") if configured else None
        self._file = Path(key_file)

    @property
    def available(self) -> bool:
        """Whether sealed secrets can be opened: a configured key or an existing file."""
        return self._key is not None or self._file.exists()

    def get(self, *, create: bool) -> bytes:
        if self._key is None:
            if not self._file.exists():
                if not create:
                    raise SecretUnavailable(
                        "no secret key: set LAUREL_SECRET_KEY or restore its key file"
                    )
                self._create_file()
            self._key = decode_key(self._file.read_text(), str(self._file))
        return self._key

    def _create_file(self) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process made it first: use theirs
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")


class AesGcmBox:
    """The `SecretBox` port."""

    def __init__(self, key: SecretKey) -> None:
        self._key = key

    def seal(self, secret: str, context: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self._key.get(create=True)).encrypt(nonce, secret.encode(), context)

    def open(self, sealed: bytes, context: bytes) -> str:
        aead = AESGCM(self._key.get(create=False))
        try:
            return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context).decode()
        except InvalidTag as error:
            raise SecretUnavailable(
                "the endpoint's secret does not decrypt with this LAUREL_SECRET_KEY: rotate it"
            ) from error
