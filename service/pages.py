"""Static web pages: the customer widget at / and its assets under /widget/."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file

from core.settings import ROOT
from service.headers import PAGE_CSP

WEB_DIR = ROOT / "web"

SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_blueprint(web_dir: Path = WEB_DIR) -> Blueprint:
    bp = Blueprint("pages")

    @bp.get("/")
    async def index(request: Request) -> HTTPResponse:
        return await file(web_dir / "widget" / "index.html", headers=SECURITY_HEADERS)

    bp.static("/widget", str(web_dir / "widget"), name="widget_assets")
    return bp
