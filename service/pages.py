"""Web pages: the customer widget at / (assets under /widget/) and the staff pages built by Vite
from web/ into web/dist/: the agent console at /console, the knowledge editor at /editor and
the supervisor dashboard at /supervisor, their shared assets under /assets/."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file

from core.errors import Unavailable
from core.settings import ROOT
from service.headers import PAGE_CSP

WEB_DIR = ROOT / "web"
STAFF_PAGES = ("console", "editor", "supervisor")

SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_blueprint(web_dir: Path = WEB_DIR) -> Blueprint:
    bp = Blueprint("pages")
    dist = web_dir / "dist"

    @bp.get("/")
    async def index(request: Request) -> HTTPResponse:
        return await file(web_dir / "widget" / "index.html", headers=SECURITY_HEADERS)

    bp.static("/widget", str(web_dir / "widget"), name="widget_assets")

    def staff_page(name: str) -> None:
        async def handler(request: Request) -> HTTPResponse:
            page = dist / name / "index.html"
            if not page.is_file():
                raise Unavailable(
                    "the staff pages are not built: run `make setup` (npm run build in web/)",
                    code="pages_not_built",
                )
            return await file(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

        bp.add_route(handler, f"/{name}", methods=["GET"], name=f"page_{name}", strict_slashes=False)

    for name in STAFF_PAGES:
        staff_page(name)
    if (dist / "assets").is_dir():  # built by scripts/setup.sh; names carry a content hash
        bp.static("/assets", str(dist / "assets"), name="staff_assets")
    return bp
