"""The staff pages are served from the Vite build in web/dist, with the page CSP; before the
build exists they answer a clear 503, never a stack trace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from service import errors, headers, pages


def app_for(web_dir: Path) -> Sanic[Any, Any]:
    Sanic.test_mode = True
    app: Sanic[Any, Any] = Sanic(f"pages_{abs(hash(web_dir))}")
    errors.install(app)
    headers.install(app)
    app.blueprint(pages.create_blueprint(web_dir))
    return app


def build(web_dir: Path) -> None:
    (web_dir / "widget").mkdir(parents=True)
    (web_dir / "widget" / "index.html").write_text("<!doctype html><title>widget</title>")
    for name in pages.STAFF_PAGES:
        (web_dir / "dist" / name).mkdir(parents=True)
        (web_dir / "dist" / name / "index.html").write_text(f"<!doctype html><title>{name}</title>")
    (web_dir / "dist" / "assets").mkdir()
    (web_dir / "dist" / "assets" / "app-1a2b.js").write_text("console.log(1)")


@pytest.mark.parametrize("name", pages.STAFF_PAGES)
async def test_each_staff_page_is_served_from_the_build_with_the_page_csp(tmp_path: Path, name: str) -> None:
    build(tmp_path)
    client = app_for(tmp_path).asgi_client
    for path in (f"/{name}", f"/{name}/"):
        _, resp = await client.get(path)
        assert resp.status == 200 and f"<title>{name}</title>" in resp.text
        assert resp.headers["content-security-policy"] == headers.PAGE_CSP
    _, asset = await client.get("/assets/app-1a2b.js")
    assert asset.status == 200 and asset.text == "console.log(1)"


async def test_an_unbuilt_page_says_how_to_build_it(tmp_path: Path) -> None:
    (tmp_path / "widget").mkdir()
    (tmp_path / "widget" / "index.html").write_text("<!doctype html>")
    _, resp = await app_for(tmp_path).asgi_client.get("/console")
    assert resp.status == 503
    assert resp.json["error"]["code"] == "pages_not_built" and "make setup" in resp.json["error"]["message"]
