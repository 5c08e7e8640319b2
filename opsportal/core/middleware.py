from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
