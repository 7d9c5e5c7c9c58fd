"""docs/openapi.yaml against the real app: a valid OpenAPI 3.1 document that lists exactly the
routes ``create_app`` registers (with the app channel and both WeCom channels switched on), and
that the service serves at /api/openapi.json and /api/docs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from sanic import Sanic

from core.app_clients import AppClient
from core.settings import ROOT, WeComSettings
from service import openapi
from service.app import create_app
from service.deps import Deps

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
AES_KEY = base64.b64encode(b"k" * 32).decode("ascii").rstrip("=")  # 43 characters, as WeCom gives
# Modules behind the documented routes: every literal error code they raise must be documented.
CODE_SOURCES = (
    "connectors/web.py",
    "connectors/app/inbound.py",
    "connectors/app/delivery.py",
    "connectors/wecom/xml.py",
    "handoff/auth.py",
    "handoff/staff.py",
    "conversations/desk/agent_actions.py",
    "conversations/desk/assignments.py",
    "conversations/desk/csat.py",
    "conversations/desk/routing.py",
    "conversations/identities.py",
    "conversations/transcripts.py",
    "service/errors.py",
    "service/agent_routes.py",
    "service/auth_routes.py",
    "service/customer_routes.py",
    "service/ticket_routes.py",
    "service/hours_routes.py",
    "service/identity_routes.py",
    "service/admin_routes.py",
    "service/staff_routes.py",
    "service/supervisor_routes.py",
    "service/floor_settings_routes.py",
    "handoff/floor_settings.py",
    "supervision/alerts.py",
    "supervision/words.py",
    "supervision/scoring.py",
    "supervision/cases.py",
    "supervision/reports.py",
    "service/editor_routes.py",
    "service/knowledge_routes.py",
    "knowledge/entries.py",
    "knowledge/usage.py",
    "knowledge/versions.py",
    "tickets/model.py",
)
# Raised only when code inside Kefu passes a wrong constant; no request can cause it.
UNREACHABLE = {"invalid_identity_kind"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi.load_spec(openapi.SPEC_PATH)


@pytest.fixture
async def app(deps: Deps) -> AsyncIterator[Sanic[Any, Any]]:
    """The service with every optional channel on, plus the docs blueprint as app.py adds it."""
    deps.settings = dataclasses.replace(
        deps.settings,
        wecom=WeComSettings(
            corp_id="wwcorp",
            kf_secret="kf-secret",
            kf_token="kf-token",
            kf_aes_key=AES_KEY,
            app_token="app-token",
            app_aes_key=AES_KEY,
            app_agent_id="1000002",
            app_secret="app-secret",
        ),
        app_clients={"shop": AppClient("shop", "shop-secret-0123456789", "http://127.0.0.1:9/hook")},
    )
    Sanic.test_mode = True
    built = create_app(deps, name=f"kefu_openapi_{id(deps)}")
    assert "openapi" in built.blueprints  # create_app serves the spec itself
    yield built
    await deps.close()


def template(uri: str) -> str:
    """Sanic's ``/a/<name:str>/b`` as OpenAPI's ``/a/{name}/b``."""
    return re.sub(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>", r"{\1}", uri)


def app_operations(app: Sanic[Any, Any], *, websocket: bool) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes:
        if route.extra.static or bool(route.extra.websocket) != websocket:
            continue
        found |= {(method.lower(), template(route.uri)) for method in route.methods}
    return found


def spec_operations(spec: dict[str, Any], *, websocket: bool) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item and bool(item[method].get("x-websocket")) == websocket
    }


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [
        (method, path, item, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_the_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # raises on any structural error, including unresolvable $refs


def test_every_http_route_of_the_app_is_documented_and_nothing_else(
    app: Sanic[Any, Any], spec: dict[str, Any]
) -> None:
    in_app, in_spec = app_operations(app, websocket=False), spec_operations(spec, websocket=False)
    assert in_app, "the app registered no routes"
    assert sorted(in_app - in_spec) == [], "routes missing from docs/openapi.yaml"
    assert sorted(in_spec - in_app) == [], "documented operations the app does not serve"


def test_every_websocket_is_documented_as_one(app: Sanic[Any, Any], spec: dict[str, Any]) -> None:
    sockets = app_operations(app, websocket=True)
    assert {path for _, path in sockets} == {"/api/web/ws", "/api/agent/ws", "/api/supervisor/ws"}
    assert spec_operations(spec, websocket=True) == sockets
    for method, path in sockets:
        assert "WebSocket" in spec["paths"][path][method]["description"]


def test_the_widget_assets_are_the_only_static_route(app: Sanic[Any, Any]) -> None:
    static = {route.uri for route in app.router.routes if route.extra.static}
    # /assets/ exists once the staff pages are built (web/dist)
    assert static - {"/assets/<__file_uri__:path>"} == {"/widget/<__file_uri__:path>"}


def parameter_names(spec: dict[str, Any], params: list[dict[str, Any]]) -> set[str]:
    shared = spec["components"]["parameters"]
    return {shared[p["$ref"].rsplit("/", 1)[-1]]["name"] if "$ref" in p else p["name"] for p in params}


def test_every_path_parameter_is_declared(spec: dict[str, Any]) -> None:
    for method, path, item, op in operations(spec):
        declared = parameter_names(spec, item.get("parameters", []) + op.get("parameters", []))
        assert set(re.findall(r"{(\w+)}", path)) <= declared, (method, path)


def test_every_operation_has_a_summary_and_documented_errors(spec: dict[str, Any]) -> None:
    ids = []
    for method, path, _, op in operations(spec):
        ids.append(op["operationId"])
        assert op.get("summary"), (method, path)
        if op.get("x-websocket"):
            assert "101" in op["responses"], (method, path)
            continue
        assert "default" in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and "$ref" in response:  # an Error response
                assert op["description"].count("`") >= 2, f"{method} {path}: {status} without codes"
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_staff_operations_name_their_role(spec: dict[str, Any]) -> None:
    staff_ops = [
        (method, path, op)
        for method, path, _, op in operations(spec)
        if {"bearerAuth": []} in op.get("security", [])
    ]
    assert len(staff_ops) >= 20
    for method, path, op in staff_ops:
        assert re.search(r"Role: |Any role", op["description"]), (method, path)
        assert "401" in op["responses"], (method, path)


def test_the_app_channel_documents_its_signature_headers(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/app/messages"]["post"]
    assert parameter_names(spec, op["parameters"]) == {"X-Kefu-App", "X-Kefu-Timestamp", "X-Kefu-Signature"}
    assert op.get("security", []) == []


def test_wecom_callbacks_document_their_query_parameters(spec: dict[str, Any]) -> None:
    for path in ("/wecom/kf/callback", "/wecom/app/callback"):
        for method, extra in (("get", {"echostr"}), ("post", set())):
            names = parameter_names(spec, spec["paths"][path][method]["parameters"])
            assert names == {"msg_signature", "timestamp", "nonce"} | extra, (method, path)


def test_every_error_code_raised_behind_the_routes_is_documented(spec: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")
    codes = set()
    for source in CODE_SOURCES:
        codes |= set(re.findall(r'code="([a-z_]+)"', (ROOT / source).read_text(encoding="utf-8")))
        codes |= set(re.findall(r'error_body\("([a-z_]+)"', (ROOT / source).read_text(encoding="utf-8")))
    assert len(codes) > 40
    missing = codes - UNREACHABLE
    assert sorted(code for code in missing if f"`{code}`" not in text) == []


async def test_the_service_serves_the_spec_as_json(app: Sanic[Any, Any], spec: dict[str, Any]) -> None:
    _, response = await app.asgi_client.get("/api/openapi.json")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json == spec


async def test_the_docs_page_runs_only_its_own_script(app: Sanic[Any, Any]) -> None:
    _, response = await app.asgi_client.get("/api/docs")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    script = re.search(r"<script>(.*)</script>", page, re.S)
    assert script is not None and "openapi.json" in script.group(1)
    assert "innerHTML" not in page and "src=" not in page
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in response.headers["content-security-policy"]


def test_a_file_that_is_not_an_openapi_document_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "openapi.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an OpenAPI document"):
        openapi.create_blueprint(bad)


async def test_the_yaml_is_read_once_when_the_blueprint_is_built(tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    document = {"openapi": "3.1.0", "info": {"title": "客服", "version": "0"}, "paths": {}}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    Sanic.test_mode = True
    small = Sanic(f"openapi_once_{id(path)}")
    small.blueprint(openapi.create_blueprint(path))
    path.unlink()  # nothing is read per request
    _, response = await small.asgi_client.get("/api/openapi.json")
    assert response.status == 200
    assert response.json == document
