from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from opsportal.core.request_context import request_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Give every request an id (the caller's X-Request-ID when well-formed) and
    expose it with the client IP to the audit trail. The id is echoed back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else None
        source = "api" if request.path.startswith("/api/") else "web"
        with request_context(
            request_id=request_id, ip=request.META.get("REMOTE_ADDR"), source=source
        ) as ctx:
            # Our own attribute on the request (HttpRequest does not declare it).
            request.request_id = ctx.request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response


NUL = "\x00"


class RejectNulMiddleware:
    """Refuse a request whose query parameters or form fields contain a NUL character
    (400, before any view): PostgreSQL cannot store or compare text containing NUL
    and answers DataError, which would be a 500. JSON bodies are checked by the API's
    parser (`opsportal.core.api.BoundedJSONParser`). The answer names the field: the
    `{"error": ...}` JSON shape under /api/, plain text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where, field = _nul_field(request)
        if field is not None:
            message = f"{where} '{field[:50]}' contains a NUL character, which is not allowed."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "nul_character", "message": message, "field": field}},
                    status=400,
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _nul_field(request: HttpRequest) -> tuple[str, str | None]:
    """("query parameter" | "form field", the first name whose name or value holds a
    NUL), or ("", None)."""
    sources = [("query parameter", request.GET)]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(("form field", request.POST))
    for where, params in sources:
        for key, values in params.lists():
            if NUL in key or any(NUL in value for value in values):
                return where, key.replace(NUL, "\\0")
    return "", None


class RejectRepeatedQueryMiddleware:
    """Under /api/, refuse a query parameter given more than once (400 naming it).

    Every API query parameter is a single value (a filter, a page, a cursor); with
    `?page=x&page=` Django would silently use the last one and answer 200 for a
    request the schema does not allow. Saying so is clearer than guessing which one
    the caller meant. Pages outside /api/ keep Django's behaviour (forms may repeat
    names)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.META.get("QUERY_STRING"):
            for key, values in request.GET.lists():
                if len(values) > 1:
                    return JsonResponse(
                        {
                            "error": {
                                "code": "repeated_parameter",
                                "message": f"Query parameter '{key[:50]}' is given "
                                f"{len(values)} times; give it once.",
                                "field": key,
                            }
                        },
                        status=400,
                    )
        return self.get_response(request)
