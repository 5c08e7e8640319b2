"""Drill runs API under /api/v1/drills/ (session or token authenticated). Every write
calls one service; refusals come back as `{"error": {"code", "message", "field"}}`
with 400/403/404/409 (opsportal.core.errors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drills import selectors
from drills import serializers as s
from drills.models import DrillRun
from drills.services.recording import drill_step_record
from opsportal.core.errors import NotFound
from opsportal.signoffs.services import signoff_sign


class DrillRunListApi(generics.ListAPIView):
    """Drill runs, newest first. Filters: state, result, procedure, environment."""

    required_permission = "drills.view_drillrun"
    serializer_class = s.DrillRunListSerializer

    def get_queryset(self) -> QuerySet[DrillRun]:
        params = self.request.query_params
        keys = ("state", "result", "procedure", "environment")
        return selectors.drill_runs(filters={k: params.get(k, "") for k in keys})


class DrillRunDetailApi(APIView):
    required_permission = "drills.view_drillrun"

    @extend_schema(responses=s.DrillRunDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        run = selectors.get_drill_run_for(request.user, pk)
        return Response(s.DrillRunDetailSerializer(run).data)


class DrillStepRecordApi(APIView):
    """Record (or correct) one step of a run: `step_id` is the step result's id."""

    required_permission = "drills.run_drillrun"

    @extend_schema(request=s.StepRecordInputSerializer, responses=s.StepResultSerializer)
    def post(self, request: Request, pk: int, step_id: int) -> Response:
        run = selectors.get_drill_run_for(request.user, pk)
        if not run.step_results.filter(pk=step_id).exists():
            raise NotFound("No such step in this drill.", field="step_id")
        data = _valid(s.StepRecordInputSerializer, request.data)
        result = drill_step_record(result_id=step_id, actor=request.user, **data)
        return Response(s.StepResultSerializer(result).data)


class DrillRunSignApi(APIView):
    """Sign a completed run: role, password (step-up), and the content hash you were
    shown (GET the run: `content_sha256`)."""

    required_permission = "drills.sign_drillrun"

    @extend_schema(request=s.SignInputSerializer, responses=s.SignoffSerializer)
    def post(self, request: Request, pk: int) -> Response:
        run = selectors.get_drill_run_for(request.user, pk)
        data = _valid(s.SignInputSerializer, request.data)
        signoff = signoff_sign(target=run, actor=request.user, **data)
        return Response(s.SignoffSerializer(signoff).data, status=status.HTTP_201_CREATED)


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
