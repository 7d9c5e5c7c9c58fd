"""The id of the request being served: on every log line written for it, and passed on to the
bot (message metadata) and from there to the action server, so one customer message can be
followed through the three processes.

A ``contextvars`` variable, so concurrent requests never mix. An id from outside is taken only
when it is a sane token (1-64 of ``A-Za-z0-9._-``).
"""

from __future__ import annotations

import contextvars
import re
import uuid

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def sane(given: object) -> str | None:
    return given if isinstance(given, str) and _SANE.match(given) else None


def adopt(given: object) -> tuple[str, contextvars.Token[str]]:
    """Make ``given`` (if sane, else a new id) the current request's id."""
    request_id = sane(given) or uuid.uuid4().hex
    return request_id, REQUEST_ID.set(request_id)


def current() -> str:
    return REQUEST_ID.get()
