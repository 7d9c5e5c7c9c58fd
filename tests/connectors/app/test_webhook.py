from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from connectors.app.signing import verify
from connectors.app.webhook import AppMessage, Outcome, RetryPolicy, classify, signed_headers, webhook_body
from core.app_clients import AppClient

SHOP = AppClient("shop", "shop-secret-0123456789", "http://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (429, Outcome.RETRY),
        (400, Outcome.FINAL),
        (401, Outcome.FINAL),
        (404, Outcome.FINAL),
        (410, Outcome.FINAL),
        (302, Outcome.FINAL),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    result = classify(status)
    assert (result.outcome, result.status) == (outcome, status)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_attempts=6)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 16, 32]
    assert RetryPolicy(base_delay=10, max_delay=25).delay(3) == 25


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_delay": -1}, {"factor": 0.5}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_body_shape() -> None:
    body = webhook_body("shop", "u-1", "c-1", AppMessage("42", "agent", "您好", "2024-05-01T08:00:00+00:00"))
    assert "您好" in body  # UTF-8, not \u escapes
    assert json.loads(body) == {
        "app_id": "shop",
        "user_id": "u-1",
        "conversation_id": "c-1",
        "message": {"id": "42", "sender": "agent", "text": "您好", "created_at": "2024-05-01T08:00:00+00:00"},
    }


def test_headers_are_signed_like_inbound_requests() -> None:
    body = b'{"x":1}'
    headers = signed_headers(SHOP, "d-1", 2, body, now=1_700_000_000.9)
    assert headers["X-Kefu-Timestamp"] == "1700000000"
    assert (headers["X-Kefu-App"], headers["X-Kefu-Delivery"], headers["X-Kefu-Attempt"]) == (
        "shop",
        "d-1",
        "2",
    )
    mac = hmac.new(SHOP.secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Kefu-Signature"] == f"sha256={mac}"
    verify(SHOP.secret, headers["X-Kefu-Timestamp"], headers["X-Kefu-Signature"], body, now=1_700_000_001)
