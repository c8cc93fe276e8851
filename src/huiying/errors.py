"""Domain errors, raised by services and turned into HTTP answers by `huiying.http.errors`.

HuiyingError                 (500 internal_error; never raised on purpose)
  InvalidInput               422 invalid_input     a value the domain does not accept
  NotFound                   404 not_found         missing, or outside what the actor may see
  Conflict                   409 conflict          the current state forbids the change
    IllegalTransition        409 illegal_transition
  Unauthenticated            401 unauthenticated   no or bad credentials
  Forbidden                  403 forbidden         the actor's role may not do this at all
  PayloadTooLarge            413 payload_too_large
  UnsupportedMedia           415 unsupported_media_type
  RateLimited                429 rate_limited      carries retry_after seconds
"""

from __future__ import annotations

from typing import Any


class HuiyingError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class InvalidInput(HuiyingError):
    status_code = 422
    code = "invalid_input"


class NotFound(HuiyingError):
    status_code = 404
    code = "not_found"


class Conflict(HuiyingError):
    status_code = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class Unauthenticated(HuiyingError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(HuiyingError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(HuiyingError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMedia(HuiyingError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimited(HuiyingError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, details={"retry_after": retry_after}, code=code)
        self.retry_after = retry_after
