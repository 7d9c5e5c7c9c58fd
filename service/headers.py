"""Security headers on every response: ``nosniff`` always, and a Content-Security-Policy on
every HTML page that does not bring a stricter one of its own (the API docs page does)."""

from __future__ import annotations

from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse

# Scripts, styles and connections only from this origin (the widget's WebSocket included: 'self'
# covers ws:/wss: to the same host), and no framing by other sites.
PAGE_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


async def add_security_headers(request: Request, response: HTTPResponse) -> None:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if (response.content_type or "").startswith("text/html") and "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = PAGE_CSP
        headers.setdefault("Referrer-Policy", "same-origin")


def install(app: Sanic[Any, Any]) -> None:
    app.register_middleware(add_security_headers, "response")  # type: ignore[arg-type]
