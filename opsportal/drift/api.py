"""Drift API: time sources with their latest check, a source's checks, check now,
configuration findings."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.errors import Conflict, NotFound
from opsportal.drift import selectors, serializers
from opsportal.drift.models import ClockCheck, ConfigFinding, TimeSource
from opsportal.drift.services import time_source_check_now


def _source(pk: int) -> TimeSource:
    source = TimeSource.objects.prefetch_related("environments").filter(pk=pk).first()
    if source is None:
        raise NotFound(f"No time source {pk}.", code="unknown_source")
    return source


def _payload(source: TimeSource) -> dict:
    latest = ClockCheck.objects.filter(source=source).first()
    return serializers.source_dict(source, selectors.effective_status(source), latest)


class SourceListApi(APIView):
    required_permission = "drift.view_timesource"

    @extend_schema(responses=serializers.TimeSourceOutput(many=True))
    def get(self, request: Request) -> Response:
        now = timezone.now()
        return Response(
            [
                serializers.source_dict(
                    row.source,
                    row.status,
                    ClockCheck.objects.filter(source=row.source).first(),
                )
                for row in selectors.source_rows(now)
            ]
        )


class SourceDetailApi(APIView):
    required_permission = "drift.view_timesource"

    @extend_schema(responses=serializers.TimeSourceOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_payload(_source(pk)))


class SourceChecksApi(APIView):
    """A source's checks, newest first, paginated (`?page=`)."""

    required_permission = ("drift.view_timesource", "drift.view_clockcheck")

    @extend_schema(responses=serializers.ClockCheckOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        source = _source(pk)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            ClockCheck.objects.filter(source=source), request, view=self
        )
        return paginator.get_paginated_response([serializers.check_dict(c) for c in page or []])


class SourceCheckNowApi(APIView):
    """Check the source now: 201 with the check; 409 `check_running` when another
    check of it is under way."""

    required_permission = "drift.check_timesource"

    @extend_schema(request=None, responses={201: serializers.ClockCheckOutput})
    def post(self, request: Request, pk: int) -> Response:
        source = _source(pk)
        check = time_source_check_now(source=source, actor=request.user)
        if check is None:
            raise Conflict("Another check of this source is running.", code="check_running")
        return Response(serializers.check_dict(check), status=201)


class FindingListApi(APIView):
    """Configuration findings, open first then newest (`?open=1`: open only)."""

    required_permission = "drift.view_configfinding"

    @extend_schema(responses=serializers.FindingOutput(many=True))
    def get(self, request: Request) -> Response:
        findings = ConfigFinding.objects.select_related("target__environment").order_by(
            "-resolved_at", "-opened_at"
        )
        if request.query_params.get("open") == "1":
            findings = findings.filter(resolved_at__isnull=True)
        return Response([serializers.finding_dict(f) for f in findings[:200]])
