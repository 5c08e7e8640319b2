"""Per-request context (request id, client IP) for the audit trail.

The middleware sets it for each HTTP request; management commands and tasks run
with no request, so audit events from them carry an empty request id unless the
caller opens `request_context(...)` itself.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    source: str = "system"  # "web", "api", "command", "task", "system"


_current: ContextVar[RequestContext] = ContextVar("opsportal_request", default=RequestContext())  # noqa: B039 - frozen


def current() -> RequestContext:
    return _current.get()


@contextlib.contextmanager
def request_context(
    *, request_id: str | None = None, ip: str | None = None, source: str
) -> Iterator[RequestContext]:
    ctx = RequestContext(request_id=request_id or uuid.uuid4().hex, ip=ip, source=source)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
