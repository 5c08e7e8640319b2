"""Reports API under /api/v1/reports/: request a report, poll its state, download
its files. Errors are `{"error": {"code", "message", "field"}}` (core.errors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.core.errors import NotFound
from opsportal.reports import selectors, services, storage
from opsportal.reports.models import Kind, Report
from opsportal.reports.serializers import ReportRequestInputSerializer, ReportSerializer


class ReportListApi(generics.ListAPIView[Report]):
    """Reports, newest first; filters `kind`, `state`. POST requests one and answers
    202 with it: a new report, or, while the same report (kind and parameters) is
    queued or running, that one. Poll `/api/v1/reports/<id>/` until `state` is
    `done` (then `files` lists each file's URL and SHA-256) or `failed`."""

    serializer_class = ReportSerializer

    @property
    def required_permission(self) -> str:
        return (
            services.REQUEST_PERMISSION if self.request.method == "POST" else "reports.view_report"
        )

    def get_queryset(self) -> QuerySet[Report]:
        params = self.request.query_params
        kind = params.get("kind", "")
        state = params.get("state", "")
        return selectors.reports(
            kind=kind if kind in Kind.values else "",
            state=state if state in Report.State.values else "",
        )

    @extend_schema(
        request=ReportRequestInputSerializer,
        responses={202: ReportSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = ReportRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind = serializer.validated_data["kind"]
        report = services.report_request(
            kind=kind, parameters=serializer.parameters(), actor=request.user
        )
        data = ReportSerializer(selectors.get_report(report.pk)).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(APIView):
    required_permission = "reports.view_report"

    @extend_schema(responses=ReportSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReportSerializer(selectors.get_report(pk)).data)


class ReportFileApi(APIView):
    """A report's file; the `X-Content-SHA256` header repeats its stored hash."""

    required_permission = "reports.view_report"
    fmt = "pdf"

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "text/html"): OpenApiResponse(OpenApiTypes.BINARY),
        }
    )
    def get(self, request: Request, pk: int) -> Any:
        report = selectors.get_report(pk)
        file = services.report_file_download(report=report, fmt=self.fmt, actor=request.user)
        try:
            handle = storage.absolute(file.path).open("rb")
        except (OSError, ValueError) as exc:
            raise NotFound(f"Report #{pk}'s {self.fmt.upper()} file is missing.") from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"opsportal-report-{pk}.{self.fmt}",
            content_type=file.content_type,
        )
        response["X-Content-SHA256"] = file.sha256
        return response
