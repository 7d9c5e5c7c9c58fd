"""Settings: one frozen dataclass, read from the environment once, in a process's ``__main__``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.app_clients import AppClient, SettingsError, parse_app_clients

ROOT = Path(__file__).resolve().parent.parent
STAFF_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")  # as kefu.staff accepts
WECOM_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class RateLimitSettings:
    """Limits on the public web channel (per minute; 0 turns a limit off)."""

    visitor_messages_per_minute: int = 30  # KEFU_RATE_VISITOR_PER_MIN
    ip_requests_per_minute: int = 300  # KEFU_RATE_IP_PER_MIN (a shared NAT holds many visitors)
    sockets_per_visitor: int = 5  # KEFU_WS_PER_VISITOR (tabs open at once)


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str = ""
    kf_secret: str = field(default="", repr=False)
    kf_token: str = field(default="", repr=False)
    kf_aes_key: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    app_aes_key: str = field(default="", repr=False)
    app_agent_id: str = ""
    app_secret: str = field(default="", repr=False)
    api_base: str = "https://qyapi.weixin.qq.com"
    # Kefu staff username -> WeCom servicer userid (WECOM_KF_SERVICERS); empty: the API answers.
    kf_servicers: tuple[tuple[str, str], ...] = ()

    @property
    def kf_enabled(self) -> bool:
        return bool(self.corp_id and self.kf_token and self.kf_aes_key)

    @property
    def app_enabled(self) -> bool:
        return bool(self.corp_id and self.app_token and self.app_aes_key)


SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    # where the action server binds (its own process reads these two)
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055
    redis_url: str = "redis://127.0.0.1:6390/0"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'kefu.db'}"
    # SQLite only: NORMAL (a commit survives a crash of the process; an OS crash or power cut may
    # roll back the last commits) or FULL (every commit is fsynced); docs/architecture.md
    sqlite_synchronous: str = "FULL"
    # turns of a conversation sent to one Rasa conversation before the next begins
    # (conversations/bot_segments.py); KEFU_BOT_SEGMENT_TURNS
    bot_segment_turns: int = 20
    var_dir: Path = ROOT / "var"
    knowledge_dir: Path = ROOT / "var" / "knowledge"
    # An extra sentence-transformers model folder for the knowledge index (e.g. a Chinese encoder
    # a production install has installed); used when a version is published, recorded in it.
    knowledge_model: Path | None = None
    # How often a process checks the database for another active knowledge version (knowledge.mirror).
    knowledge_sync_seconds: float = 5.0
    secret_key: str = field(default="", repr=False)
    # Rasa's --auth-token (its HTTP API, e.g. /status, needs ?token=) and the header secret
    # Rasa sends to the action server (bot/endpoints.yml); `make run` generates both into var/.
    rasa_token: str = field(default="", repr=False)
    actions_secret: str = field(default="", repr=False)
    bot_timeout: float = 30.0
    wecom: WeComSettings = field(default_factory=WeComSettings)
    # the mobile-app channel's backends (KEFU_APPS, KEFU_APP_SECRET_<ID>); empty: the channel is off
    app_clients: Mapping[str, AppClient] = field(default_factory=dict)
    # sites that embed the widget (KEFU_SITE_KEYS): site key -> origins allowed to frame it
    site_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # supervision: the business's time zone decides a report's day (KEFU_TIMEZONE); alert
    # webhooks are signed with KEFU_ALERT_WEBHOOK_SECRET; rules are evaluated every
    # KEFU_ALERT_INTERVAL seconds
    business_timezone: str = "Asia/Shanghai"
    alert_webhook_secret: str = field(default="", repr=False)
    alert_interval: float = 3.0
    # operators: JSON log lines (KEFU_LOG_FORMAT json|text) and an optional /metrics bearer token
    log_format: str = "json"
    metrics_token: str = field(default="", repr=False)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require_secret: bool = True) -> Settings:
        """Read settings; command-line tools that sign nothing pass ``require_secret=False``."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("KEFU_VAR_DIR", str(ROOT / "var")))
        rasa_port = _int(env, "RASA_PORT", 5005)
        actions_port = _int(env, "ACTIONS_PORT", 5055)
        return cls(
            host=env.get("KEFU_HOST", "127.0.0.1"),
            port=_int(env, "KEFU_PORT", 8080),
            rasa_url=env.get("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
            actions_url=env.get("ACTIONS_URL", f"http://127.0.0.1:{actions_port}"),
            actions_host=env.get("ACTIONS_HOST", "127.0.0.1"),
            actions_port=actions_port,
            redis_url=env.get("REDIS_URL", f"redis://127.0.0.1:{_int(env, 'KEFU_REDIS_PORT', 6390)}/0"),
            database_url=env.get("DATABASE_URL", f"sqlite:///{var_dir / 'kefu.db'}"),
            sqlite_synchronous=_synchronous(env, "KEFU_SQLITE_SYNCHRONOUS", "FULL"),
            bot_segment_turns=max(1, _int(env, "KEFU_BOT_SEGMENT_TURNS", 20)),
            var_dir=var_dir,
            knowledge_dir=Path(env.get("KEFU_KNOWLEDGE_DIR", str(var_dir / "knowledge"))),
            knowledge_model=_model_folder(env, "KEFU_KNOWLEDGE_MODEL"),
            knowledge_sync_seconds=float(env.get("KEFU_KNOWLEDGE_SYNC_SECONDS", "5")),
            secret_key=_required(env, "KEFU_SECRET_KEY")
            if require_secret
            else env.get("KEFU_SECRET_KEY", ""),
            rasa_token=env.get("KEFU_RASA_TOKEN", ""),
            actions_secret=env.get("KEFU_ACTIONS_SECRET", ""),
            bot_timeout=float(env.get("KEFU_BOT_TIMEOUT", "30")),
            wecom=WeComSettings(
                corp_id=env.get("WECOM_CORP_ID", ""),
                kf_secret=env.get("WECOM_KF_SECRET", ""),
                kf_token=env.get("WECOM_KF_TOKEN", ""),
                kf_aes_key=env.get("WECOM_KF_AES_KEY", ""),
                app_token=env.get("WECOM_APP_TOKEN", ""),
                app_aes_key=env.get("WECOM_APP_AES_KEY", ""),
                app_agent_id=env.get("WECOM_APP_AGENT_ID", ""),
                app_secret=env.get("WECOM_APP_SECRET", ""),
                api_base=env.get("WECOM_API_BASE", "https://qyapi.weixin.qq.com"),
                kf_servicers=parse_servicers(env.get("WECOM_KF_SERVICERS", "")),
            ),
            app_clients=parse_app_clients(env),
            site_keys=parse_site_keys(env.get("KEFU_SITE_KEYS", "")),
            business_timezone=_timezone(env.get("KEFU_TIMEZONE", "Asia/Shanghai")),
            alert_webhook_secret=env.get("KEFU_ALERT_WEBHOOK_SECRET", ""),
            alert_interval=float(env.get("KEFU_ALERT_INTERVAL", "3")),
            log_format="text" if env.get("KEFU_LOG_FORMAT", "json") == "text" else "json",
            metrics_token=env.get("KEFU_METRICS_TOKEN", ""),
            rate_limits=RateLimitSettings(
                visitor_messages_per_minute=_int(env, "KEFU_RATE_VISITOR_PER_MIN", 30),
                ip_requests_per_minute=_int(env, "KEFU_RATE_IP_PER_MIN", 300),
                sockets_per_visitor=_int(env, "KEFU_WS_PER_VISITOR", 5),
            ),
        )


SITE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def parse_site_keys(raw: str) -> dict[str, tuple[str, ...]]:
    """``shop=https://shop.example.com https://m.shop.example.com;blog=https://blog.example.com``:
    each site key with the origins whose pages may embed the widget."""
    keys: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        key, _, origins = part.partition("=")
        key, listed = key.strip(), tuple(origins.split())
        if not SITE_KEY.match(key) or not listed or not all(ORIGIN.match(o) for o in listed):
            raise SettingsError(f"KEFU_SITE_KEYS: {part[:80]!r} is not key=https://origin ...")
        keys[key] = listed
    return keys


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"KEFU_TIMEZONE: unknown time zone {name!r}") from None
    return name


def parse_servicers(raw: str) -> tuple[tuple[str, str], ...]:
    """``alice=zhangsan,bob=lisi`` (Kefu username = WeCom userid) as pairs, each side unique."""
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        username, sep, userid = (side.strip() for side in item.partition("="))
        if not sep or not STAFF_USERNAME.match(username) or not WECOM_USERID.match(userid):
            raise SettingsError(
                f"WECOM_KF_SERVICERS: {item!r} is not username=userid (e.g. alice=zhangsan; a Kefu "
                "username of a-z 0-9 _ . -, a WeCom userid of letters, digits and _ . @ -)"
            )
        pairs.append((username, userid))
    for side, name in ((0, "Kefu username"), (1, "WeCom userid")):
        values = [pair[side] for pair in pairs]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise SettingsError(f"WECOM_KF_SERVICERS: the {name} {repeated[0]!r} appears twice")
    return tuple(pairs)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _synchronous(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip().upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise SettingsError(f"{name} must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SettingsError(f"{name} is required (set it in the environment; `make run` generates one)")
    return value


def _model_folder(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if not (path / "modules.json").is_file():
        raise SettingsError(
            f"{name} must be a sentence-transformers model folder (one with modules.json), got {raw!r}"
        )
    return path


__all__ = ["ROOT", "AppClient", "Settings", "SettingsError", "WeComSettings", "parse_servicers"]
