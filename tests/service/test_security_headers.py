"""nosniff on every response; a CSP without any-host WebSockets and with frame-ancestors on
every HTML page."""

from __future__ import annotations

import pytest
from sanic_testing.testing import SanicASGITestClient


def directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in csp.split(";") if part.strip()}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/widget/widget.js"),
        ("get", "/widget/index.html"),
        ("get", "/api/openapi.json"),
        ("get", "/api/docs"),
        ("get", "/api/nope"),  # an error from the router
        ("get", "/api/web/conversations/abc/messages?visitor_id=v&after=x"),  # a domain error
        ("post", "/api/auth/login"),  # a validation error
    ],
)
async def test_every_response_says_nosniff(client: SanicASGITestClient, method: str, path: str) -> None:
    _, resp = await getattr(client, method)(path)
    assert resp.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/widget/index.html", "/api/docs"])
async def test_every_html_page_has_a_csp_against_framing_and_foreign_connections(
    client: SanicASGITestClient, path: str
) -> None:
    _, resp = await client.get(path)
    assert resp.status == 200 and resp.content_type.startswith("text/html")
    csp = directives(resp.headers["content-security-policy"])
    assert csp["frame-ancestors"] in ("frame-ancestors 'none'", "frame-ancestors 'self'")
    assert csp["connect-src"] == "connect-src 'self'"
