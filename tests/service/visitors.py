"""A web visitor's token header, as the service would have issued it on the first message."""

from __future__ import annotations

from sanic_testing.testing import SanicASGITestClient

from connectors.visitor_token import HEADER, VisitorTokens


def visitor_headers(client: SanicASGITestClient, visitor_id: str) -> dict[str, str]:
    secret: str = client.sanic_app.ctx.deps.settings.secret_key
    return {HEADER: VisitorTokens(secret).issue(visitor_id)}
