"""GET /health: liveness of the portal and its real parts, for load balancers and
the runbook's infrastructure check (live-trading runbook 1.1.6)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opsportal.celery import app


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "down", reported
        return {"status": "down", "error": type(exc).__name__}
    result = {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result.update(detail)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()


def _celery() -> dict[str, Any]:
    # Stop at the first reply: a health check needs one live worker, not a census,
    # and waiting out the full timeout would make every /health call take a second.
    replies = app.control.ping(timeout=1.0, limit=1)
    if not replies:
        raise RuntimeError("no worker answered")
    return {"workers": len(replies)}


@never_cache
@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """`{"status": "healthy"|"degraded"|"unhealthy", "checks": {...}}`.

    503 and "unhealthy" when the database is unreachable; "degraded" (200) when only
    Redis or the Celery worker is down, since the portal still serves and the gate
    still answers.
    """
    checks: dict[str, Any] = {"database": _timed(_database)}
    if checks["database"]["status"] == "down":
        with contextlib.suppress(DatabaseError):
            connection.close()
    if settings.REDIS_URL:
        checks["redis"] = _timed(_redis)
        checks["celery"] = _timed(_celery)
    else:
        checks["celery"] = {"status": "in-process"}
    if checks["database"]["status"] == "down":
        status, code = "unhealthy", 503
    elif any(c["status"] == "down" for c in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "healthy", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)
