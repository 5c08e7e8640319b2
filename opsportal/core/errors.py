"""The domain error hierarchy and the one handler that renders it.

Services raise a `DomainError` subclass with a user-facing message. The API turns it
into `{"error": {"code": ..., "message": ..., "field": ...}}` with the class's HTTP
status; browser views turn it into a form error or a message (see
`opsportal.core.web.DomainErrorMixin`). Nothing here is a programming error: those stay
ordinary exceptions and surface as 500s in tests.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response


class DomainError(Exception):
    """A refusal the user can understand and act on.

    Attributes:
        code: stable machine-readable identifier, e.g. ``"self_approval"``.
        message: sentence shown to the user.
        field: the input field at fault, when there is one.
        http_status: status the API answers with.
        refusals: audit records of this refusal, attached where it was raised and
            written by the service entry point once its transaction has rolled back
            (`opsportal.audit.services.service_entry_point`), so the evidence of a
            refused attempt survives the rollback of the attempt.
    """

    http_status = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.refusals: list[Any] = []

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """Input is malformed or violates a rule about the input itself (400)."""


class NotPermitted(DomainError):
    """The actor lacks the permission or role for this action (403)."""

    http_status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    http_status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The action does not fit the current state: illegal transition, stale payload,
    precondition no longer holds (409)."""

    http_status = 409
    default_code = "conflict"


# DRF's codes for a field's first error, as the services name the same faults (a
# missing or blank value "required", as `reason_given`; too long "too_long", as
# `text_within`); anything else is "invalid".
_VALIDATION_CODES = {"required": "required", "blank": "required", "null": "required",
                     "max_length": "too_long"}  # fmt: skip


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: one JSON error shape for domain and framework errors."""
    # Imported here: rest_framework.views imports the permission classes, which import
    # this module.
    from rest_framework.views import exception_handler

    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.http_status)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError) and isinstance(exc.detail, dict):
        field, messages = next(iter(exc.detail.items()))
        message = messages[0] if isinstance(messages, list) and messages else str(messages)
        response.data = {
            "error": {
                "code": _VALIDATION_CODES.get(str(getattr(message, "code", "")), "invalid"),
                "message": f"{field}: {message}",
                "field": field,
                "fields": exc.detail,
            }
        }
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"error": {"code": str(code), "message": str(detail)}}
    return response
