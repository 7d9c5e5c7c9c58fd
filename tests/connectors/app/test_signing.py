from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess

import pytest

from connectors.app.errors import BadSignature, BadTimestamp, StaleTimestamp
from connectors.app.signing import sign, verify
from core.errors import Unauthenticated

SECRET = "s3cret-for-the-shop-app"
BODY = '{"app_id":"shop","user_id":"u-1","text":"退款多久到账？"}'.encode()
TS = "1700000000"


def openssl_hmac(secret: str, data: bytes) -> str:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed for the known-answer test"
    out = subprocess.run(
        [openssl, "dgst", "-sha256", "-hmac", secret], input=data, capture_output=True, check=True
    ).stdout.decode()
    return out.strip().split()[-1]


def test_known_answer_matches_python_hmac_and_openssl() -> None:
    message = f"{TS}.".encode() + BODY
    by_python = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    by_openssl = openssl_hmac(SECRET, message)
    assert by_python == by_openssl
    assert sign(SECRET, TS, BODY) == f"sha256={by_openssl}"
    assert sign(SECRET, int(TS), BODY) == f"sha256={by_openssl}"


def test_valid_signature_returns_the_timestamp() -> None:
    assert verify(SECRET, TS, sign(SECRET, TS, BODY), BODY, now=1700000000.5) == 1700000000


def test_timestamp_is_verified_as_sent() -> None:
    raw = "01700000000"
    assert verify(SECRET, raw, sign(SECRET, raw, BODY), BODY, now=1700000000) == 1700000000
    with pytest.raises(BadSignature):
        verify(SECRET, raw, sign(SECRET, TS, BODY), BODY, now=1700000000)


@pytest.mark.parametrize(
    ("secret", "body", "signature"),
    [
        ("another-secret-entirely", BODY, None),
        (SECRET, BODY + b" ", None),
        (SECRET, BODY, ""),
        (SECRET, BODY, "sha256=" + "0" * 64),
        (SECRET, BODY, "garbage ✓"),
    ],
)
def test_bad_signatures_are_rejected(secret: str, body: bytes, signature: str | None) -> None:
    signature = sign(secret, TS, body) if signature is None else signature
    with pytest.raises(BadSignature) as info:
        verify(SECRET, TS, signature, BODY, now=int(TS))
    assert info.value.code == "bad_signature"
    assert isinstance(info.value, Unauthenticated)


def test_missing_signature_is_rejected() -> None:
    with pytest.raises(BadSignature):
        verify(SECRET, TS, None, BODY, now=int(TS))


@pytest.mark.parametrize("skew", [301, -301, 86400, -86400])
def test_timestamps_outside_five_minutes_are_stale(skew: int) -> None:
    with pytest.raises(StaleTimestamp) as info:
        verify(SECRET, TS, sign(SECRET, TS, BODY), BODY, now=int(TS) + skew)
    assert info.value.code == "stale_timestamp"


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_timestamps_within_five_minutes_pass(skew: int) -> None:
    assert verify(SECRET, TS, sign(SECRET, TS, BODY), BODY, now=int(TS) + skew) == int(TS)


@pytest.mark.parametrize("raw", [None, "", "abc", "-1700000000", "1.7e9", "١٢٣", "9" * 13])
def test_malformed_timestamps(raw: str | None) -> None:
    with pytest.raises(BadTimestamp) as info:
        verify(SECRET, raw, sign(SECRET, TS, BODY), BODY, now=int(TS))
    assert info.value.code == "bad_timestamp"
