"""The controls API: the gate for engines, and control actions for people.

`gate` is a plain Django view on purpose: it is the hottest path in the system
(every order of every engine asks it), so it skips DRF, the session and templates,
and answers from one indexed query that reads the environment row and checks the
token together. The people endpoints are DRF views that declare
`required_permission` and call one service each.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.controls import hooks, selectors, serializers, services
from opsportal.controls.authentication import bearer_token
from opsportal.controls.models import GateToken

logger = logging.getLogger(__name__)


def _gate_response(
    decision: selectors.GateDecision, status_code: int, **extra: Any
) -> HttpResponse:
    body = decision.as_dict()
    body.update(extra)
    response = HttpResponse(json.dumps(body), content_type="application/json", status=status_code)
    response["Cache-Control"] = "no-store"
    return response


def _gate_read(slug: str, digest: str) -> selectors.GateRead:
    """The gate's one query, without Django's per-request connection health check.

    With CONN_HEALTH_CHECKS on, Django sends `SELECT 1` before the first query of
    every request that reuses a connection: a second round trip on the hottest path.
    The gate's own query is the check instead: if a reused connection turns out to
    be broken, it is dropped and the query retried once on a fresh connection, so a
    database restart costs no false HALT; if that fails too, the caller answers 503.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # one lookup; the `connection` proxy costs per use
    reused = conn.connection is not None
    if reused:
        # Django's flag that skips CONN_HEALTH_CHECKS' SELECT 1; missing from django-stubs.
        conn.health_check_done = True  # type: ignore[attr-defined]
    try:
        return selectors.gate_read(slug, digest, conn=conn)
    except DatabaseError:
        if not reused:
            raise
        with contextlib.suppress(DatabaseError):
            conn.close()
        return selectors.gate_read(slug, digest, conn=conn)


@login_not_required
@require_GET
def gate(request: HttpRequest, slug: str) -> HttpResponse:
    """`GET /api/v1/environments/<slug>/gate` with `Authorization: Bearer <gate token>`.

    200 with the decision; 401 HALT without a valid token for this environment; 404
    HALT for an unknown environment; 503 HALT when the state cannot be read. Every
    answer carries `Cache-Control: no-store`; an engine treats an answer older than
    `valid_until` as HALT (docs/controls.md).
    """
    raw = bearer_token(request.META.get("HTTP_AUTHORIZATION", ""))
    try:
        read = _gate_read(slug, services.hash_token(raw or ""))
    except DatabaseError as exc:
        # Fail closed. Drop the broken connection so the next request reconnects. The
        # error's class and text say why (a newcomer's 503 must be explainable).
        logger.error(
            "gate.state_unavailable",
            extra={"environment": slug, "error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        with contextlib.suppress(DatabaseError):
            connection.close()
        return _gate_response(selectors.halt(selectors.REASON_STATE_UNAVAILABLE), 503)
    if read.state is None:
        return _gate_response(selectors.halt(selectors.REASON_UNKNOWN_ENVIRONMENT), 404)
    if raw is None or read.token_id is None:
        response = _gate_response(
            selectors.halt("HALT_UNAUTHENTICATED"),
            401,
            error={"code": "unauthenticated", "message": "A valid gate token is required."},
        )
        response["WWW-Authenticate"] = 'Bearer realm="opsportal"'
        return response
    decision = selectors.decide(read.state)
    if read.token_touch_due:
        try:
            services.token_touch(model=GateToken, token_id=read.token_id, at=decision.as_of)
        except DatabaseError:
            logger.warning("gate.last_used_update_failed", extra={"token": read.token_id})
    return _gate_response(decision, 200)


def _status_payload(env: Any) -> dict[str, Any]:
    return serializers.environment_dict(env, selectors.decide(_row(env)))


def _row(env: Any) -> dict[str, Any]:
    return {"mode": env.mode, "kill_switch": env.kill_switch, "version": env.version}


class EnvironmentListApi(APIView):
    """Every environment with its mode, kill switch and gate decision."""

    required_permission = "controls.view_environment"

    @extend_schema(responses=serializers.EnvironmentOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response([_status_payload(e) for e in selectors.environments_for(request.user)])


class EnvironmentStatusApi(APIView):
    """`killswitch status`: one environment's state and gate decision."""

    required_permission = "controls.view_environment"

    @extend_schema(responses=serializers.EnvironmentOutput)
    def get(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        return Response(_status_payload(env))


class EnvironmentHistoryApi(APIView):
    """`killswitch history`: kill-switch events and mode changes, newest first."""

    required_permission = ("controls.view_environment", "controls.view_killswitchevent")

    @extend_schema(responses=serializers.HistoryEntryOutput(many=True))
    def get(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        return Response([serializers.history_dict(h) for h in selectors.environment_history(env)])


class KillSwitchTriggerApi(APIView):
    """Trigger the kill switch now (no approval). 201 with the event and the gate."""

    required_permission = "controls.trigger_killswitch"

    @extend_schema(request=serializers.TriggerInput, responses={201: serializers.TriggerOutput})
    def post(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        data = serializers.TriggerInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.kill_switch_trigger(
            environment=env,
            actor=request.user,
            reason_code=data.validated_data["reason_code"],
            note=data.validated_data["note"],
            incident_id=hooks.resolve_incident_link(
                request.user, data.validated_data["incident"], environment=env
            ),
        )
        env.refresh_from_db()
        return Response(
            {
                "event": {
                    "id": event.pk,
                    "kind": event.kind,
                    "incident": event.incident_id,
                    "occurred_at": event.occurred_at,
                },
                "environment": _status_payload(env),
            },
            status=status.HTTP_201_CREATED,
        )


class KillSwitchRecoverApi(APIView):
    """Start recovery after the cooldown; 201 with the resume approval request."""

    required_permission = "controls.recover_killswitch"

    @extend_schema(
        request=serializers.ReasonInput, responses={201: serializers.ApprovalCreatedOutput}
    )
    def post(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        data = serializers.ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.kill_switch_recover(
            environment=env, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(
            {"approval_request": serializers.approval_dict(approval)},
            status=status.HTTP_201_CREATED,
        )


class LiveTransitionRequestApi(APIView):
    """Request DRY_RUN → LIVE; 201 with the approval request, 409 with the failing
    preconditions."""

    required_permission = "controls.request_live_transition"

    @extend_schema(
        request=serializers.LiveTransitionInput,
        responses={201: serializers.ApprovalCreatedOutput},
    )
    def post(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        data = serializers.LiveTransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.live_transition_request(
            environment=env,
            actor=request.user,
            reason=data.validated_data["reason"],
            attestations=data.validated_data["attestations"],
        )
        return Response(
            {"approval_request": serializers.approval_dict(approval)},
            status=status.HTTP_201_CREATED,
        )


class ModeRollbackApi(APIView):
    """Roll LIVE back to DRY_RUN now; 201 with the mode change."""

    required_permission = "controls.rollback_mode"

    @extend_schema(request=serializers.ReasonInput, responses={201: serializers.RollbackOutput})
    def post(self, request: Request, slug: str) -> Response:
        env = selectors.get_environment_for(request.user, slug)
        data = serializers.ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.mode_rollback(
            environment=env, actor=request.user, reason=data.validated_data["reason"]
        )
        env.refresh_from_db()
        return Response(
            {
                "mode_change": {
                    "id": change.pk,
                    "from": change.from_mode,
                    "to": change.to_mode,
                    "occurred_at": change.occurred_at,
                },
                "environment": _status_payload(env),
            },
            status=status.HTTP_201_CREATED,
        )
