"""Settings of the action server, read from the environment once in ``actions.__main__``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.settings import ROOT, SettingsError


@dataclass(frozen=True)
class ActionsSettings:
    host: str = "127.0.0.1"
    port: int = 5055
    database_url: str = f"sqlite:///{ROOT / 'var' / 'kefu.db'}"
    knowledge_dir: Path = ROOT / "var" / "knowledge"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionsSettings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("KEFU_VAR_DIR", str(ROOT / "var")))
        raw_port = env.get("ACTIONS_PORT", "5055")
        if not raw_port.isdigit():
            raise SettingsError(f"ACTIONS_PORT must be a port number, not {raw_port!r}")
        return cls(
            host=env.get("ACTIONS_HOST", "127.0.0.1"),
            port=int(raw_port),
            database_url=env.get("DATABASE_URL", f"sqlite:///{var_dir / 'kefu.db'}"),
            knowledge_dir=Path(env.get("KEFU_KNOWLEDGE_DIR", str(var_dir / "knowledge"))),
        )
