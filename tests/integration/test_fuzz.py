"""Schema fuzzing of the whole OpenAPI description (schemathesis) against a real service process:
real Redis (a database of its own), a migrated SQLite database with the demo data, published
knowledge, and an admin's token so staff routes are reached past their role check. Rasa and the
action server are not started, so the bot-unavailable path is fuzzed too.

No generated request may get a 5xx, except the documented 503s (``/healthz`` says Rasa is down;
``bot_unavailable``). Logging out is left out: it would end the token the run uses.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err

from core.settings import ROOT
from tests.support.processes import free_port
from tests.support.stack import MAIN_PY, base_env, prepare_data, process

pytestmark = pytest.mark.integration

ADMIN, PASSWORD = "fuzz-admin", "fuzz-admin-password"
UNAVAILABLE_CODES = {"bot_unavailable", "knowledge_not_published"}
EXAMPLES = 12


@dataclass(frozen=True)
class Service:
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Service]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        **base_env(workdir, redis_url.rsplit("/", 1)[0] + "/3"),
        "KEFU_PORT": str(port),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",  # nobody listens: the bot is down
        "ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
    }
    prepare_data(env)
    added = subprocess.run(
        [str(MAIN_PY), "-m", "service.cli", "agents", "add", ADMIN, "--role", "admin", "--password-stdin"],
        env=env,
        cwd=ROOT,
        input=PASSWORD,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    url = f"http://127.0.0.1:{port}"
    with process("fuzz-service", [str(MAIN_PY), "-m", "service"], env, workdir, f"{url}/api/openapi.json"):
        login = httpx.post(
            f"{url}/api/auth/login", json={"username": ADMIN, "password": PASSWORD}, timeout=30
        )
        assert login.status_code == 200, login.text
        yield Service(url, {"Authorization": f"Bearer {login.json()['token']}"})


def test_no_generated_request_makes_the_service_fail(service: Service) -> None:
    """Each operation with up to ``EXAMPLES`` generated requests (schemathesis' strategies run by
    Hypothesis here: its pytest plugin does not run on this pytest)."""
    api = schemathesis.openapi.from_url(f"{service.url}/api/openapi.json")
    failures: list[str] = []
    tried = 0
    for result in api.get_all_operations():
        if isinstance(result, Err):  # the spec itself is checked in tests/service/test_openapi.py
            raise result.err()
        operation = result.ok()
        if operation.path.startswith("/api/auth/logout"):
            continue
        tried += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=service.url, headers=service.headers, timeout=30)
            if response.status_code < 500 or documented_unavailable(case, response):
                return
            failures.append(f"{case.method} {case.formatted_path} {case.body!r} -> {response.text[:200]}")

        call()
    assert tried > 80  # every documented operation was reached
    assert not failures, "\n".join(failures[:20])


def documented_unavailable(case: schemathesis.Case[Any], response: Any) -> bool:
    if response.status_code != 503:
        return False
    if case.path == "/healthz":  # it answers 503 while Rasa is down: that is its contract
        return True
    try:
        code = response.json().get("error", {}).get("code")
    except ValueError:
        return False
    return code in UNAVAILABLE_CODES
