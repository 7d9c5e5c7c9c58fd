"""A real Rasa server and a real action server as processes, for integration tests.

Both are context managers with ports, environment and log directory as parameters, so the
full-stack tests can reuse them. Each process logs to ``<workdir>/<name>.log``; when start-up
fails, or the ``with`` body raises, the log's tail is printed (pytest shows it with the failure).

    with action_server(actions_env(base, database_url=..., knowledge_dir=...), workdir) as actions:
        env = rasa_env(base, action_endpoint_url=actions.webhook_url, redis_url=redis_url)
        with rasa_server(model_path(), env, workdir) as rasa:
            send(rasa.url, "sender", "text", token=rasa.token)

Rasa runs with ``--auth-token`` (``rasa.token``) and sends ``X-Kefu-Actions-Secret`` to the
action server, as ``make run`` does; both values are fresh for each test session.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.settings import ROOT
from tests.support.processes import free_port, stop

MAIN_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "bot" / "models" / "kefu.tar.gz"
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
CREDENTIALS = ROOT / "bot" / "credentials.yml"
TRAIN = ROOT / "scripts" / "train-bot.sh"
RASA_TOKEN = secrets.token_urlsafe(24)
ACTIONS_SECRET = secrets.token_urlsafe(24)
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]
    token: str = ""  # Rasa's --auth-token

    @property
    def webhook_url(self) -> str:
        """The action server's endpoint, as Rasa's ACTION_ENDPOINT_URL wants it."""
        return f"{self.url}/webhook"

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def trained_model(force: bool = False) -> Path:
    """The bot model, trained by scripts/train-bot.sh when missing or out of date."""
    done = subprocess.run(
        ["bash", str(TRAIN), *(["--force"] if force else [])], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0 or not MODEL.exists():
        raise RuntimeError(f"training the bot failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return MODEL


def actions_env(
    base: Mapping[str, str] | None = None, *, database_url: str, knowledge_dir: Path, port: int | None = None
) -> dict[str, str]:
    env = {**(os.environ if base is None else base), **QUIET}
    env.update(DATABASE_URL=database_url, KEFU_KNOWLEDGE_DIR=str(knowledge_dir))
    env.setdefault("KEFU_ACTIONS_SECRET", ACTIONS_SECRET)
    if port is not None:
        env["ACTIONS_PORT"] = str(port)
    return env


def rasa_env(
    base: Mapping[str, str] | None = None, *, action_endpoint_url: str, redis_url: str, redis_db: int = 1
) -> dict[str, str]:
    """Variables bot/endpoints.yml needs. Rasa's keys go to ``redis_db``, apart from the service's."""
    parts = urlsplit(redis_url)
    env = {**(os.environ if base is None else base), **QUIET}
    env.update(
        ACTION_ENDPOINT_URL=action_endpoint_url,
        REDIS_HOST=parts.hostname or "127.0.0.1",
        REDIS_PORT=str(parts.port or 6379),
        REDIS_DB=str(redis_db),
        KEFU_ACTIONS_SECRET=env.get("KEFU_ACTIONS_SECRET", ACTIONS_SECRET),
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return json.loads(resp.read() or b"null") if resp.status == 200 else None


def _wait(server: Server, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            if ready():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{server.name} not ready within {timeout}s:\n{server.log_tail()}")


@contextmanager
def _process(
    name: str,
    cmd: list[str],
    env: Mapping[str, str],
    workdir: Path,
    port: int,
    ready: str,
    timeout: float,
    token: str = "",
) -> Iterator[Server]:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=dict(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", port, log, proc, token)
    try:
        _wait(server, lambda: _ready(server.url + ready), timeout)
        yield server
    except BaseException:
        print(f"----- {name} log ({log}) -----\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        stop(proc, timeout=15)


def _ready(url: str) -> bool:
    body = _get_json(url)
    # Rasa's /status names the loaded model; the action server's /health says {"status": "ok"}.
    return isinstance(body, dict) and bool(body.get("model_file") or body.get("status") == "ok")


@contextmanager
def action_server(
    env: Mapping[str, str], workdir: Path, *, port: int | None = None, timeout: float = 120
) -> Iterator[Server]:
    """``python -m service.action_server`` on 127.0.0.1:port (env ACTIONS_PORT, else a free port)."""
    port = port or int(env.get("ACTIONS_PORT") or free_port())
    env = {**env, "ACTIONS_PORT": str(port)}
    with _process(
        "actions", [str(MAIN_PY), "-m", "service.action_server"], env, workdir, port, "/health", timeout
    ) as s:
        yield s


@contextmanager
def rasa_server(
    model: Path,
    env: Mapping[str, str],
    workdir: Path,
    *,
    port: int | None = None,
    endpoints: Path = ENDPOINTS,
    credentials: Path = CREDENTIALS,
    timeout: float = 300,
    token: str = RASA_TOKEN,
) -> Iterator[Server]:
    """``rasa run --enable-api --auth-token`` with ``model`` on 127.0.0.1:port; ready when
    /status names the model."""
    port = port or free_port()
    cmd = [
        str(RASA), "run", "--enable-api", "--auth-token", token, "-m", str(model),
        "-i", "127.0.0.1", "-p", str(port), "--endpoints", str(endpoints), "--credentials", str(credentials),
    ]  # fmt: skip
    with _process("rasa", cmd, env, workdir, port, f"/status?token={token}", timeout, token) as server:
        yield server


def send(
    rasa_url: str, sender: str, text: str, metadata: Mapping[str, Any] | None = None, token: str = RASA_TOKEN
) -> list[Any]:
    """POST one message to Rasa's REST channel, as the service does; the bot's replies."""
    body = json.dumps({"sender": sender, "message": text, "metadata": dict(metadata or {})}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook?token={token}",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        replies: list[Any] = json.loads(resp.read())
    return replies
