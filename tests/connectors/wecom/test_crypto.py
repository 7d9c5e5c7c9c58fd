from __future__ import annotations

import base64
import hashlib
import os
import shutil
import struct
import subprocess

import pytest

from connectors.wecom.crypto import WeComCrypto, pkcs7_pad, pkcs7_unpad, signature
from connectors.wecom.errors import (
    BadAesKey,
    BadPadding,
    BadSignature,
    WeComCryptoError,
    WrongReceiveId,
)
from tests.fakes.wecom_fixtures import AES_KEY, CORP_ID, TOKEN

KEY = base64.b64decode(AES_KEY + "=")

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not found")


def fixed_random(value: bytes) -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, CORP_ID, random_bytes=lambda n: value[:n])


def tencent_plaintext(random16: bytes, message: str, receive_id: str) -> bytes:
    """Built by hand from the spec, independent of the code under test."""
    body = message.encode()
    plain = random16 + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = 32 - len(plain) % 32
    return plain + bytes([pad]) * pad


def openssl(data: bytes, *, decrypt: bool) -> bytes:
    args = ["openssl", "enc", "-aes-256-cbc", "-K", KEY.hex(), "-iv", KEY[:16].hex(), "-nopad"]
    if decrypt:
        args.append("-d")
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


@pytest.mark.parametrize("message", ["", "hi", "<xml>退款多久能到账？</xml>", "x" * 5000, "a" * 12])
def test_round_trip(message: str) -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.decrypt(crypto.encrypt(message)) == message


def test_random_prefix_makes_each_ciphertext_different() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_tencent_published_vector() -> None:
    """The sample from Tencent's WXBizMsgCrypt test suite (key, app id, random, ciphertext)."""
    crypto = WeComCrypto(
        "pamtest",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wxb11529c136998cb6",
        random_bytes=lambda n: b"aaaabbbbccccdddd"[:n],
    )
    expected = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    assert crypto.encrypt("我是中文abcd123") == expected
    assert crypto.decrypt(expected) == "我是中文abcd123"


@needs_openssl
@pytest.mark.parametrize("message", ["<xml><Content>你好</Content></xml>", "", "y" * 100])
def test_openssl_ciphertext_decrypts(message: str) -> None:
    random16 = os.urandom(16)
    raw = openssl(tencent_plaintext(random16, message, CORP_ID), decrypt=False)
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.decrypt(base64.b64encode(raw).decode()) == message


@needs_openssl
@pytest.mark.parametrize("message", ["<xml><Content>你好</Content></xml>", "", "z" * 45])
def test_our_ciphertext_matches_openssl(message: str) -> None:
    random16 = os.urandom(16)
    ours = base64.b64decode(fixed_random(random16).encrypt(message))
    assert openssl(ours, decrypt=True) == tencent_plaintext(random16, message, CORP_ID)
    assert ours == openssl(tencent_plaintext(random16, message, CORP_ID), decrypt=False)


def test_plaintext_is_padded_to_32_bytes() -> None:
    for size in range(0, 70):
        raw = base64.b64decode(WeComCrypto(TOKEN, AES_KEY, CORP_ID).encrypt("a" * size))
        assert len(raw) % 32 == 0


def test_wrong_receive_id_is_refused() -> None:
    other = WeComCrypto(TOKEN, AES_KEY, "ww-someone-else")
    with pytest.raises(WrongReceiveId) as err:
        WeComCrypto(TOKEN, AES_KEY, CORP_ID).decrypt(other.encrypt("<xml/>"))
    assert err.value.code == "wrong_receive_id"


@needs_openssl
@pytest.mark.parametrize("tail", [b"\x00", b"\x21", b"\x03\x03\x04"])
def test_bad_padding_is_refused(tail: bytes) -> None:
    body = b"\x00" * 16 + struct.pack(">I", 2) + b"hi" + CORP_ID.encode()
    plain = body + b"\x05" * (64 - len(body) - len(tail)) + tail
    raw = openssl(plain, decrypt=False)
    with pytest.raises(BadPadding) as err:
        WeComCrypto(TOKEN, AES_KEY, CORP_ID).decrypt(base64.b64encode(raw).decode())
    assert err.value.code == "bad_padding"


def test_pkcs7_block_is_32() -> None:
    assert pkcs7_pad(b"") == bytes([32]) * 32
    assert pkcs7_pad(b"a" * 31) == b"a" * 31 + b"\x01"
    assert pkcs7_unpad(pkcs7_pad(b"abc")) == b"abc"


@pytest.mark.parametrize("bad", ["not base64!!", "", base64.b64encode(b"short").decode()])
def test_garbage_ciphertext_is_a_crypto_error(bad: str) -> None:
    with pytest.raises(WeComCryptoError):
        WeComCrypto(TOKEN, AES_KEY, CORP_ID).decrypt(bad)


@needs_openssl
def test_length_field_out_of_range_is_refused() -> None:
    body = b"\x00" * 16 + struct.pack(">I", 999) + b"hi" + CORP_ID.encode()
    raw = openssl(pkcs7_pad(body), decrypt=False)
    with pytest.raises(WeComCryptoError):
        WeComCrypto(TOKEN, AES_KEY, CORP_ID).decrypt(base64.b64encode(raw).decode())


def test_signature_is_sha1_of_sorted_parts() -> None:
    parts = ["tok", "1409659589", "263014780", "ENCRYPTED"]
    expected = hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()
    assert signature(*parts) == expected
    assert signature("tok", "1409659589", "263014780", "ENCRYPTEe") != expected


def test_open_verifies_before_decrypting() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    sealed = crypto.seal("<xml>x</xml>", "1700000000", "42")
    assert crypto.open(sealed.msg_signature, "1700000000", "42", sealed.encrypt) == "<xml>x</xml>"
    with pytest.raises(BadSignature) as err:
        crypto.open(sealed.msg_signature, "1700000001", "42", sealed.encrypt)
    assert err.value.code == "bad_signature"
    assert err.value.status == 403


def test_other_token_fails_signature() -> None:
    sealed = WeComCrypto("other-token", AES_KEY, CORP_ID).seal("<xml/>", "1", "2")
    with pytest.raises(BadSignature):
        WeComCrypto(TOKEN, AES_KEY, CORP_ID).verify(sealed.msg_signature, "1", "2", sealed.encrypt)


@pytest.mark.parametrize("key", ["short", AES_KEY + "A", "*" * 43])
def test_bad_aes_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(BadAesKey) as err:
        WeComCrypto(TOKEN, key, CORP_ID)
    assert key not in str(err.value)


def test_errors_and_repr_do_not_leak_key_material() -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    assert AES_KEY not in repr(crypto) and TOKEN not in repr(crypto)
    for bad in (WeComCrypto(TOKEN, AES_KEY, "x").encrypt("m"), "AAAA" * 8):
        with pytest.raises(WeComCryptoError) as err:
            crypto.decrypt(bad)
        assert AES_KEY not in str(err.value) and KEY.hex() not in str(err.value)
