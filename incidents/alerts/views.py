"""`POST /api/v1/alerts/alertmanager` and `POST /api/v1/alerts/grafana`.

Authenticated by the integration's own token (`Authorization: Bearer <token>`; the
integration's source must match the URL), not by a session: monitoring systems are
machines. 200 with what happened; 400 naming the field of a malformed payload
(nothing written); 401 without a valid token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.alerts.parsing import PayloadError, parse_payload
from incidents.alerts.services import alerts_ingest
from incidents.models import AlertIntegration
from opsportal.core.api import JSON_MAX_BYTES
from opsportal.core.errors import DomainError


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": field}}, status=status
    )


def _integration(request: HttpRequest, source: str) -> AlertIntegration | None:
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or len(raw) > 200:
        return None
    found = AlertIntegration.objects.filter(
        token_sha256=hash_token(raw), source=source, enabled=True
    ).first()
    if found is None or not hmac.compare_digest(found.token_sha256, hash_token(raw)):
        return None
    return found


def _ingest(request: HttpRequest, source: str) -> HttpResponse:
    integration = _integration(request, source)
    if integration is None:
        response = _error(401, "unauthenticated", "A valid integration token is required.")
        response["WWW-Authenticate"] = 'Bearer realm="opsportal"'
        return response
    body = request.body
    if len(body) > JSON_MAX_BYTES:
        return _error(400, "too_large", "The payload is over 1 MB.", "body")
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "parse_error", "The body is not valid JSON.", "body")
    try:
        alerts = parse_payload(data, source=source)
    except PayloadError as exc:
        return _error(400, "invalid", f"{exc.field} {exc.message}.", exc.field)
    try:
        result = alerts_ingest(integration=integration, alerts=alerts)
    except DomainError as exc:
        return _error(exc.http_status, exc.code, exc.message, exc.field)
    return JsonResponse(result)


@login_not_required
@csrf_exempt
@require_POST
def alertmanager(request: HttpRequest) -> HttpResponse:
    return _ingest(request, AlertIntegration.Source.ALERTMANAGER)


@login_not_required
@csrf_exempt
@require_POST
def grafana(request: HttpRequest) -> HttpResponse:
    return _ingest(request, AlertIntegration.Source.GRAFANA)
