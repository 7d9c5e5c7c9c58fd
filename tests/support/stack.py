"""The whole system as real processes, for integration and browser tests.

Redis comes from the session fixture; this starts the action server, the Rasa server and one
or more service replicas on free ports, with a fresh SQLite database loaded with demo data and
a freshly published knowledge index.

Only the CLI and the first replica share a knowledge folder (``env["KEFU_KNOWLEDGE_DIR"]``): the
action server and every other replica start with an empty folder of their own, as on other
hosts, and get each version from the database (``knowledge.mirror``).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from core.settings import ROOT
from store.engine import sync_url
from tests.support.processes import free_port, stop
from tests.support.rasa import ACTIONS_SECRET, RASA_TOKEN

MAIN_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_DIR = ROOT / "bot" / "models"
STAFF_PASSWORD = "integration-pass"


@dataclass
class Stack:
    env: dict[str, str]
    service_urls: list[str]
    rasa_url: str
    actions_url: str
    workdir: Path
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)
    service_envs: list[dict[str, str]] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # "actions", "rasa", "service0", ...
    # how to start "rasa" and "actions" again: command, environment, readiness URL
    helpers: dict[str, tuple[list[str], dict[str, str], str]] = field(default_factory=dict)
    helper_procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def service_url(self) -> str:
        return self.service_urls[0]

    def kill_service(self, index: int) -> None:
        """SIGKILL one service replica: no shutdown code runs."""
        self.services[index].kill()
        self.services[index].wait()

    def restart_service(self, index: int) -> None:
        log = self.workdir / f"service{index}-restarted.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(MAIN_PY), "-m", "service"],
                env=self.service_envs[index],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        self.services[index] = proc
        _wait_http(f"{self.service_urls[index]}/healthz", proc, log, 120)

    def stop_helper(self, name: str) -> None:
        """Stop Rasa or the action server ("rasa", "actions") as an operator would (SIGTERM)."""
        stop(self.helper_procs[name], timeout=30)

    def start_helper(self, name: str, timeout: float = 300) -> None:
        cmd, env, ready = self.helpers[name]
        log = self.workdir / f"{name}-restarted.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.helper_procs[name] = proc
        self.pids[name] = proc.pid
        _wait_http(ready, proc, log, timeout)

    def sql(self, query: str, **params: object) -> list[tuple[Any, ...]]:
        """One statement on the stack's own database (SQLite or PostgreSQL), committed: its rows."""
        engine = sqlalchemy.create_engine(sync_url(self.env["DATABASE_URL"]))
        try:
            with engine.begin() as connection:
                result = connection.execute(sqlalchemy.text(query), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def kefu(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `kefu` CLI against this stack's database and knowledge directory."""
        return subprocess.run(
            [str(MAIN_PY), "-m", "service.cli", *args],
            env=self.env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=600,
            cwd=ROOT,
        )

    def staff(
        self,
        name: str,
        *,
        role: str = "agent",
        skills: str = "",
        max_concurrent: int = 5,
        replica: int = 0,
    ) -> dict[str, str]:
        """Add a staff account with the CLI and log it in on one replica: its Authorization header."""
        added = self.kefu(
            "agents",
            "add",
            name,
            "--role",
            role,
            "--skills",
            skills,
            "--max-concurrent",
            str(max_concurrent),
            "--password-stdin",
            stdin=f"{STAFF_PASSWORD}\n",
        )
        assert added.returncode == 0, added.stderr
        resp = httpx.post(
            f"{self.service_urls[replica]}/api/auth/login",
            json={"username": name, "password": STAFF_PASSWORD},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['token']}"}


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not up within {timeout}s\n{log.read_text()[-4000:]}")


@contextmanager
def process(
    name: str, cmd: list[str], env: Mapping[str, str], workdir: Path, ready_url: str, timeout: float = 180
) -> Iterator[subprocess.Popen[bytes]]:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        _wait_http(ready_url, proc, log, timeout)
        yield proc
    finally:
        stop(proc)


def base_env(workdir: Path, redis_url: str, database_url: str | None = None) -> dict[str, str]:
    host_port = redis_url.removeprefix("redis://").split("/")[0]
    host, port = host_port.split(":")
    env = {
        **os.environ,
        "KEFU_SECRET_KEY": "integration-secret",
        "KEFU_VAR_DIR": str(workdir),
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'kefu.db'}",
        "REDIS_URL": redis_url,
        "REDIS_HOST": host,
        "REDIS_PORT": port,
        "REDIS_DB": "1",
        "KEFU_KNOWLEDGE_DIR": str(workdir / "knowledge"),
        "KEFU_KNOWLEDGE_SYNC_SECONDS": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    return env


def own_knowledge_dir(workdir: Path, process: str) -> Path:
    """The knowledge folder of a process that plays another host (empty at its start)."""
    return workdir / f"knowledge-{process}"


def prepare_data(env: Mapping[str, str]) -> None:
    for args in (["db", "upgrade"], ["demo", "load", "--if-empty"], ["knowledge", "publish"]):
        done = subprocess.run(
            [str(MAIN_PY), "-m", "service.cli", *args],
            env=dict(env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kefu {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def running_stack(
    workdir: Path,
    redis_url: str,
    *,
    replicas: int = 1,
    extra_env: Mapping[str, str] | None = None,
    rasa_workers: int = 1,
    action_workers: int = 1,
    database_url: str | None = None,
) -> Iterator[Stack]:
    """``rasa_workers`` / ``action_workers``: Sanic worker processes of Rasa (``SANIC_WORKERS``,
    possible because the lock store is Redis) and of the action server. ``database_url``: the
    database (default: SQLite in ``workdir``)."""
    if not any(MODEL_DIR.glob("*.tar.gz")):
        subprocess.run(["bash", str(ROOT / "scripts" / "train-bot.sh")], check=True, cwd=ROOT)
    env = base_env(workdir, redis_url, database_url)
    env.update(extra_env or {})
    prepare_data(env)
    actions_port, rasa_port = free_port(), free_port()
    env["ACTIONS_PORT"] = str(actions_port)
    env["RASA_PORT"] = str(rasa_port)
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
    env.setdefault("KEFU_RASA_TOKEN", RASA_TOKEN)  # the services send it; Rasa requires it
    env.setdefault("KEFU_ACTIONS_SECRET", ACTIONS_SECRET)  # Rasa sends it; the action server requires it
    with ExitStack() as stack:
        actions_url = f"http://127.0.0.1:{actions_port}"
        actions_start = (
            [str(MAIN_PY), "-m", "service.action_server"],
            {
                **env,
                "ACTION_SERVER_SANIC_WORKERS": str(action_workers),
                "KEFU_KNOWLEDGE_DIR": str(own_knowledge_dir(workdir, "actions")),
            },
            f"{actions_url}/health",
        )
        actions = stack.enter_context(process("actions", *actions_start[:2], workdir, actions_start[2]))
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        rasa_start = (
            [
                str(RASA),
                "run",
                "--enable-api",
                "--auth-token",
                env["KEFU_RASA_TOKEN"],
                "-i",
                "127.0.0.1",
                "-p",
                str(rasa_port),
                "-m",
                str(MODEL_DIR),
                "--endpoints",
                str(ROOT / "bot" / "endpoints.yml"),
                "--credentials",
                str(ROOT / "bot" / "credentials.yml"),
            ],
            {**env, "SANIC_WORKERS": str(rasa_workers)},
            f"{rasa_url}/status?token={env['KEFU_RASA_TOKEN']}",
        )
        rasa = stack.enter_context(process("rasa", *rasa_start[:2], workdir, rasa_start[2], timeout=300))
        running = Stack(
            env,
            [],
            rasa_url,
            actions_url,
            workdir,
            pids={"actions": actions.pid, "rasa": rasa.pid},
            helpers={"actions": actions_start, "rasa": rasa_start},
            helper_procs={"actions": actions, "rasa": rasa},
        )
        for i in range(replicas):
            port = free_port()
            service_env = {**env, "KEFU_PORT": str(port), "RASA_URL": rasa_url, "ACTIONS_URL": actions_url}
            if i > 0:
                service_env["KEFU_KNOWLEDGE_DIR"] = str(own_knowledge_dir(workdir, f"service{i}"))
            url = f"http://127.0.0.1:{port}"
            proc = stack.enter_context(
                process(
                    f"service{i}",
                    [str(MAIN_PY), "-m", "service"],
                    service_env,
                    workdir,
                    f"{url}/healthz",
                    timeout=120,
                )
            )
            running.services.append(proc)
            running.service_urls.append(url)
            running.service_envs.append(service_env)
            running.pids[f"service{i}"] = proc.pid
        try:
            yield running
        finally:
            for proc in [*running.services, *running.helper_procs.values()]:  # restarted by a test
                stop(proc)
