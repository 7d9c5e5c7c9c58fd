"""One exception tree for domain errors. Each app turns them into HTTP statuses in one handler."""

from __future__ import annotations


class KefuError(Exception):
    """Base of every domain error. ``code`` is stable; ``message`` is for humans."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(KefuError):
    status = 422
    code = "validation_failed"


class Unauthenticated(KefuError):
    status = 401
    code = "unauthenticated"


class Forbidden(KefuError):
    status = 403
    code = "forbidden"


class NotFound(KefuError):
    status = 404
    code = "not_found"


class Conflict(KefuError):
    status = 409
    code = "conflict"


class RateLimited(KefuError):
    """Too many requests; ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(KefuError):
    status = 503
    code = "unavailable"


class Undeliverable(KefuError):
    """A channel refused a message for a reason retrying cannot change (the outbox marks it dead)."""

    status = 409
    code = "undeliverable"
