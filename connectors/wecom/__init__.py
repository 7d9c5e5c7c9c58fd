"""WeCom (企业微信) connector: 微信客服 (kf) and the self-built app.

What the service needs to wire it (see each module for details)::

    crypto = WeComCrypto(token, encoding_aes_key, corp_id)
    client = WeComClient(session, redis, corp_id, secret, base_url=api_base)
    ingest = WeComKfIngest(KfApi(client), redis, MessageDedup(redis, "kf"), on_servicer=...)
    servicers = ServicerSessions(KfApi(client), redis)   # state 3 / 4 when humans take over
    app.blueprint(create_kf_blueprint(crypto, ingest, on_inbound, ReplayGuard(redis, "kf")))
"""

from connectors.wecom.api import DEFAULT_API_BASE, AppApi, KfApi, WeComClient
from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.dedup import MessageDedup
from connectors.wecom.errors import (
    BadPadding,
    BadSignature,
    SendQuotaExceeded,
    SendWindowClosed,
    StaleCallback,
    WeComApiError,
    WeComAuthError,
    WeComCryptoError,
    WeComPayloadError,
    WeComRateLimited,
    WeComSendRuleError,
    WeComUnavailable,
    WrongReceiveId,
)
from connectors.wecom.ingest import WeComAppIngest, WeComKfIngest
from connectors.wecom.models import KfMessage, MenuItem, ServiceState, split_text
from connectors.wecom.replay import ReplayGuard
from connectors.wecom.routes import create_app_blueprint, create_kf_blueprint
from connectors.wecom.sessions import UNKNOWN_SERVICER, ServicerSessions

__all__ = [
    "DEFAULT_API_BASE",
    "UNKNOWN_SERVICER",
    "AppApi",
    "BadPadding",
    "BadSignature",
    "KfApi",
    "KfMessage",
    "MenuItem",
    "MessageDedup",
    "ReplayGuard",
    "SendQuotaExceeded",
    "SendWindowClosed",
    "ServiceState",
    "ServicerSessions",
    "StaleCallback",
    "WeComApiError",
    "WeComAppIngest",
    "WeComAuthError",
    "WeComClient",
    "WeComCrypto",
    "WeComCryptoError",
    "WeComKfIngest",
    "WeComPayloadError",
    "WeComRateLimited",
    "WeComSendRuleError",
    "WeComUnavailable",
    "WrongReceiveId",
    "create_app_blueprint",
    "create_kf_blueprint",
    "split_text",
]
