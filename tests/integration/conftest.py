"""One running system (real Redis, PostgreSQL, Rasa, action server, two service replicas) shared
by the integration tests, with WeCom pointed at the protocol-faithful fake of Tencent's API."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import threading
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web
from playwright.sync_api import Browser, sync_playwright

from tests.fakes.wecom_api import FakeWeCom, create_fake_wecom
from tests.support.processes import create_database, free_port, wait_for_port
from tests.support.stack import Stack, running_stack

CORP_ID = "ww00integration0001"
KF_SECRET = "kf-secret-integration"
KF_TOKEN = "kfTokenIntegration"
KF_AES_KEY = base64.b64encode(bytes(range(1, 33))).decode().rstrip("=")
OPEN_KFID = "wkINTEGRATION01"
# Only tests/integration/test_wecom_flow.py creates this agent (answers in the WeCom client).
SERVICER_AGENT, SERVICER_USERID = "wecom-servicer", "zhangsan"
APP_ID = "shop"
APP_SECRET = "integration-app-secret-32-chars!"  # 32 characters


class ThreadedServer:
    """An aiohttp app served on a loopback port from its own thread and event loop, so the
    synchronous tests and the processes under test can both reach it."""

    def __init__(self, app: web.Application) -> None:
        self.port = free_port()
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self._app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class FakeWeComServer(ThreadedServer):
    """Tencent's API, played by the protocol-faithful fake."""

    def __init__(self) -> None:
        self.fake: FakeWeCom = create_fake_wecom(CORP_ID, [KF_SECRET], KF_TOKEN, KF_AES_KEY)
        super().__init__(self.fake.app)
        self.url = f"http://127.0.0.1:{self.port}"


class AppWebhookServer(ThreadedServer):
    """The shop app's webhook: records every signed delivery Kefu POSTs."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        super().__init__(app)
        self.url = f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        self.deliveries.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")


@pytest.fixture(scope="session")
def app_webhook() -> Iterator[AppWebhookServer]:
    server = AppWebhookServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def wecom() -> Iterator[FakeWeComServer]:
    server = FakeWeComServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    postgres_url: str,
    wecom: FakeWeComServer,
    app_webhook: AppWebhookServer,
) -> Iterator[Stack]:
    extra = {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_KF_SECRET": KF_SECRET,
        "WECOM_KF_TOKEN": KF_TOKEN,
        "WECOM_KF_AES_KEY": KF_AES_KEY,
        "WECOM_API_BASE": wecom.url,
        "WECOM_KF_SERVICERS": f"{SERVICER_AGENT}={SERVICER_USERID}",
        "KEFU_APPS": f"{APP_ID}={app_webhook.url}",
        "KEFU_APP_SECRET_SHOP": APP_SECRET,
        # a new Rasa conversation every 5 turns (20 by default): every test's longer conversations
        # cross a boundary (tests/integration/test_long_conversation.py)
        "KEFU_BOT_SEGMENT_TURNS": "5",
    }
    # The stack lives for the whole session, also while later unit tests flush database 0 and
    # run their own delivery workers there: it keeps its keys in a database of its own.
    stack_redis = redis_url.rsplit("/", 1)[0] + "/2"
    # PostgreSQL, two replicas, as production runs (a database of its own on the session's server).
    database = create_database(postgres_url, "kefu_stack")
    with running_stack(
        tmp_path_factory.mktemp("stack"), stack_redis, replicas=2, extra_env=extra, database_url=database
    ) as running:
        yield running


@pytest.fixture(scope="session")
def forgetter(stack: Stack) -> dict[str, str]:
    """An editor's Authorization header for the fixture below."""
    return stack.staff("integration-forgetter", role="editor")


@pytest.fixture(autouse=True)
def forget_what_a_test_taught(request: pytest.FixtureRequest) -> Iterator[None]:
    """An agent who sends an FAQ suggestion unedited teaches the bot the customer's wording
    (knowledge/learning.py); on the shared stack a later test's publish would take that in, so
    "帮我写一首诗" might come to mean "where is my parcel". What a test taught is rejected after it."""
    if "stack" not in request.fixturenames:
        yield
        return
    running: Stack = request.getfixturevalue("stack")
    editor: dict[str, str] = request.getfixturevalue("forgetter")
    learned = f"{running.service_url}/api/knowledge/learned"

    def ids(**params: str) -> set[int]:
        resp = httpx.get(learned, params={"limit": "200", **params}, headers=editor, timeout=10)
        return {row["id"] for row in resp.json()["learned"]}

    newest = max(ids(), default=0)
    yield
    for taught in {i for i in ids(status="active") if i > newest}:
        httpx.post(f"{learned}/{taught}/reject", headers=editor, timeout=10)


# Chromium for the browser tests, started with the system's binary (`make test` installs it);
# flags for a container without a GPU, sandbox or network beyond this machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("KEFU_CHROMIUM") or shutil.which("chromium")
    assert executable, "Chromium is not installed: `make test` installs it"
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
