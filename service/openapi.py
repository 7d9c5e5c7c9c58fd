"""GET /api/openapi.json (docs/openapi.yaml as JSON) and GET /api/docs (a plain list of operations).

The YAML is read once, when the blueprint is built: a missing or malformed file stops start-up.
The docs page is self-contained (no CDN); its script puts text into the page with
``textContent`` only, and a Content-Security-Policy allows exactly that script and style.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, raw

from core.settings import ROOT

SPEC_PATH = ROOT / "docs" / "openapi.yaml"

STYLE = """
body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
li { list-style: none; border-bottom: 1px solid #ddd; padding: .3rem 0; }
ul { padding: 0; }
summary { cursor: pointer; }
code.method { display: inline-block; min-width: 4.5rem; font-weight: bold; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .5rem; }
.tags { color: #666; }
"""

SCRIPT = """
(function () {
  "use strict";
  var METHODS = ["get", "put", "post", "patch", "delete"];
  var heading = document.getElementById("title");
  var status = document.getElementById("status");
  var list = document.getElementById("operations");
  function add(parent, tag, text, cls) {
    var el = document.createElement(tag);
    if (text) { el.textContent = text; }
    if (cls) { el.className = cls; }
    parent.appendChild(el);
    return el;
  }
  function show(path, item, prefix) {
    METHODS.forEach(function (method) {
      var op = item[method];
      if (!op) { return; }
      var details = add(add(list, "li"), "details");
      var line = add(details, "summary");
      add(line, "code", op["x-websocket"] ? "WS" : prefix + method.toUpperCase(), "method");
      add(line, "code", path, "path");
      add(line, "span", " " + (op.summary || ""));
      add(details, "p", (op.tags || []).join(", "), "tags");
      add(details, "pre", op.description || "");
      add(details, "p", "Responses: " + Object.keys(op.responses || {}).join(", "));
    });
  }
  fetch("openapi.json").then(function (response) {
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }).then(function (spec) {
    heading.textContent = spec.info.title + " " + spec.info.version;
    status.textContent = "";
    Object.keys(spec.paths || {}).forEach(function (path) { show(path, spec.paths[path], ""); });
    Object.keys(spec.webhooks || {}).forEach(function (name) {
      show("webhook: " + name, spec.webhooks[name], "→ ");
    });
  }).catch(function (error) {
    status.textContent = "Could not load openapi.json: " + error.message;
  });
})();
"""

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kefu API</title>
<style>{STYLE}</style>
</head>
<body>
<h1 id="title">Kefu API</h1>
<p>The machine-readable description: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<p id="status">Loading…</p>
<ul id="operations"></ul>
<script>{SCRIPT}</script>
</body>
</html>
"""


def csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


DOCS_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(STYLE)}; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document at ``path``; raises ValueError naming the file if it is not one."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise ValueError(f"{path} is not an OpenAPI document (no paths mapping)")
    return data


def create_blueprint(spec_path: Path = SPEC_PATH) -> Blueprint:
    body = json.dumps(load_spec(spec_path), ensure_ascii=False).encode("utf-8")
    bp = Blueprint("openapi", url_prefix="/api")

    @bp.get("/openapi.json")
    async def spec(request: Request) -> HTTPResponse:
        return raw(body, content_type="application/json; charset=utf-8")

    @bp.get("/docs")
    async def docs(request: Request) -> HTTPResponse:
        return html(PAGE, headers=DOCS_HEADERS)

    return bp
