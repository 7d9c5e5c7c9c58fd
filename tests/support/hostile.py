"""Stored-XSS payloads for the browser sweep (tests/integration/test_xss_browser.py), and a probe
that tells whether a page ran, loaded or grew any of them.

Every payload starts with a marker unique to its field and run (``XSS-<field>-<run>``), then as
many payload shapes as the field's length limit leaves room for. A shape that ran sets
``window.__xss``; an ``<img>`` shape points at ``/xss-probe/<field>``, so a tag that was parsed
as HTML shows up as a request even where its handler could not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Dialog, Page, Request

PROBE_PATH = "/xss-probe/"
# No digits anywhere: the bot's language model takes a text with digits in it for a ticket
# number, and a customer's hostile question should reach the knowledge base like any other.
RAISE = "window.__xss=true"

# Long shapes first: a field with room gets all of them.
LONG_SHAPES = (
    '<img src={probe} onerror="' + RAISE + '">',
    '<svg onload="' + RAISE + '"></svg>',
    '"><script>' + RAISE + "</script>",
    "{{{{constructor.constructor('" + RAISE + "')()}}}}",
    "javascript:" + RAISE + "//",
    "=cmd|' /C calc'!A",
)
# For fields of 64 characters: one tag and a template expression each.
SHORT_SHAPES = (
    "<img src={probe} onerror=__xss=true>",
    "<svg onload=__xss=true>",
    "'\"><b onmouseover=__xss=true>b",
    "{{{{'x'+'y'}}}}",
)


def hostile(name: str, run: str, room: int = 2000, *, slash: bool = True) -> str:
    """A value for one field: its marker and every shape that fits in ``room`` characters.
    ``slash=False`` leaves out shapes with a ``/`` (a value that travels in a URL path)."""
    text = f"XSS-{name}-{run}"
    probe = f"{PROBE_PATH}{name}" if slash else "x"
    for shape in LONG_SHAPES if room >= 250 else SHORT_SHAPES:
        piece = " " + shape.format(probe=probe)
        if (slash or "/" not in piece) and len(text) + len(piece) <= room:
            text += piece
    return text


# Anything the payloads could have put into the DOM: inline handlers, probe images, scripts,
# javascript: URLs.
INJECTED = """() => ({
  xss: window.__xss === undefined ? null : window.__xss,
  handlers: document.querySelectorAll('[onerror],[onload],[onmouseover]').length,
  probes: document.querySelectorAll('[src*="xss-probe"]').length,
  scripts: [...document.scripts].filter((s) => s.text.includes('__xss')).length,
  urls: [...document.querySelectorAll('[href],[src],[action],[formaction]')]
    .filter((e) => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src')
      || e.getAttribute('action') || e.getAttribute('formaction') || '')).length,
})"""


@dataclass
class Probe:
    """Watches one page: dialogs it opened and requests it made to a payload's address."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if PROBE_PATH in request.url or request.url.lower().startswith("javascript:"):
            self.requests.append(request.url)

    def assert_clean(self) -> None:
        found: dict[str, Any] = self.page.evaluate(INJECTED)
        clean = {"xss": None, "handlers": 0, "probes": 0, "scripts": 0, "urls": 0}
        assert found == clean, f"{self.page.url}: payload in the DOM or run: {found}"
        assert not self.dialogs, f"{self.page.url}: dialogs {self.dialogs}"
        assert not self.requests, f"{self.page.url}: requests to payload addresses {self.requests}"
