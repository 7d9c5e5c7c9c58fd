"""The WeCom error tree. Messages never carry key material, tokens or secrets."""

from __future__ import annotations

from core.errors import KefuError


class WeComCryptoError(KefuError):
    """A callback failed verification or decryption."""

    status = 400
    code = "bad_ciphertext"


class BadSignature(WeComCryptoError):
    status = 403
    code = "bad_signature"


class StaleCallback(WeComCryptoError):
    """A correctly signed callback stamped too far from now: a replay, or a badly wrong clock."""

    status = 403
    code = "stale_callback"


class BadPadding(WeComCryptoError):
    code = "bad_padding"


class WrongReceiveId(WeComCryptoError):
    status = 403
    code = "wrong_receive_id"


class BadAesKey(WeComCryptoError):
    """The configured EncodingAESKey is not 43 characters of base64 for a 32-byte key."""

    status = 500
    code = "bad_aes_key"


class WeComPayloadError(KefuError):
    """A callback or an API answer is not shaped as the protocol says."""

    status = 400
    code = "bad_wecom_payload"


class WeComApiError(KefuError):
    """WeCom answered with a non-zero errcode."""

    status = 502
    code = "wecom_error"

    def __init__(self, errcode: int, errmsg: str, *, api: str) -> None:
        super().__init__(f"WeCom {api} failed with errcode {errcode}: {errmsg[:200]}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api


class WeComAuthError(WeComApiError):
    """Bad corp id or secret, or a token WeCom kept refusing after one refresh."""

    code = "wecom_auth"


class WeComRateLimited(WeComApiError):
    status = 429
    code = "wecom_rate_limited"


class WeComSendRuleError(WeComApiError):
    """A kf send rule refused the message (the 95xxx family); retrying will not help."""

    status = 409
    code = "wecom_send_rule"


class SendQuotaExceeded(WeComSendRuleError):
    """95001: at most 5 messages per customer message."""

    code = "wecom_send_quota"


class SendWindowClosed(WeComSendRuleError):
    """95002: more than 48 hours since the customer's last message."""

    code = "wecom_send_window_closed"


class WeComUnavailable(KefuError):
    """WeCom could not be reached, answered garbage, or a lock could not be had in time."""

    status = 503
    code = "wecom_unavailable"
