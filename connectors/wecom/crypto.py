"""Tencent's callback message crypto (the WXBizMsgCrypt scheme), for WeCom kf and self-built apps.

* signature: SHA1 over the sorted strings [token, timestamp, nonce, ciphertext], joined, hex.
* key: base64 of (EncodingAESKey + "="), 32 bytes; IV: the first 16 key bytes; AES-256-CBC.
* plaintext: 16 random bytes + 4-byte big-endian message length + message + receive id,
  PKCS#7-padded to a multiple of 32 bytes (pad bytes 1..32).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.wecom.errors import (
    BadAesKey,
    BadPadding,
    BadSignature,
    WeComCryptoError,
    WrongReceiveId,
)

BLOCK = 32
RANDOM_LEN = 16

__all__ = [
    "BadAesKey",
    "BadPadding",
    "BadSignature",
    "Sealed",
    "WeComCrypto",
    "WeComCryptoError",
    "WrongReceiveId",
    "pkcs7_pad",
    "pkcs7_unpad",
    "signature",
]


@dataclass(frozen=True)
class Sealed:
    """An encrypted, signed message: what goes into a passive reply or a callback."""

    encrypt: str
    msg_signature: str
    timestamp: str
    nonce: str


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def pkcs7_pad(data: bytes, block: int = BLOCK) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, block: int = BLOCK) -> bytes:
    if not data:
        raise BadPadding("the decrypted message is empty")
    n = data[-1]
    if not 1 <= n <= block or n > len(data) or data[-n:] != bytes([n]) * n:
        raise BadPadding("the decrypted message has invalid padding")
    return data[:-n]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise BadAesKey("the EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadAesKey("the EncodingAESKey is not valid base64") from exc
    if len(key) != 32:
        raise BadAesKey("the EncodingAESKey does not decode to 32 bytes")
    return key


class WeComCrypto:
    """Verify, decrypt and encrypt callbacks for one (token, EncodingAESKey, receive id)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._token = token
        self._key = decode_aes_key(encoding_aes_key)
        self._receive_id = receive_id.encode("utf-8")
        self._random = random_bytes

    @property
    def receive_id(self) -> str:
        return self._receive_id.decode("utf-8")

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self._token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode("utf-8", "replace")):
            raise BadSignature("the message signature does not match")

    def encrypt(self, message: str) -> str:
        body = message.encode("utf-8")
        plain = self._random(RANDOM_LEN) + struct.pack(">I", len(body)) + body + self._receive_id
        encryptor = self._cipher().encryptor()
        raw = encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()
        return base64.b64encode(raw).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        plain = pkcs7_unpad(self._decrypt_raw(encrypted))
        if len(plain) < RANDOM_LEN + 4:
            raise WeComCryptoError("the decrypted message is too short")
        (length,) = struct.unpack(">I", plain[RANDOM_LEN : RANDOM_LEN + 4])
        start = RANDOM_LEN + 4
        if start + length > len(plain):
            raise WeComCryptoError("the decrypted message length field is out of range")
        if not hmac.compare_digest(plain[start + length :], self._receive_id):
            raise WrongReceiveId("the message was encrypted for another receiver")
        try:
            return plain[start : start + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WeComCryptoError("the decrypted message is not UTF-8") from exc

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        """Verify the signature first, then decrypt: nothing is decrypted for a bad signature."""
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def seal(self, message: str, timestamp: str, nonce: str) -> Sealed:
        encrypted = self.encrypt(message)
        return Sealed(encrypted, self.sign(timestamp, nonce, encrypted), timestamp, nonce)

    def _decrypt_raw(self, encrypted: str) -> bytes:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeComCryptoError("the ciphertext is not valid base64") from exc
        if not raw or len(raw) % 16:
            raise WeComCryptoError("the ciphertext is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        return decryptor.update(raw) + decryptor.finalize()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def __repr__(self) -> str:
        return f"WeComCrypto(receive_id={self.receive_id!r})"
