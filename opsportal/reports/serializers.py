"""DRF serializers for reports: the request's input shape (the rules are the kinds'
and the service's) and the report as the API shows it."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from opsportal.core.api import MAX_ID
from opsportal.reports.forms import INCIDENT_REF_MAX
from opsportal.reports.models import Kind, Report, ReportFile


class ReportRequestInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=Kind.choices)
    incident = serializers.CharField(
        required=False, max_length=INCIDENT_REF_MAX, help_text="incident, review: reference or id"
    )
    review = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="review: the review id (or give `incident` for its latest revision)",
    )
    drill_run = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    mode_change = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="rollback: the mode change id"
    )
    date_from = serializers.DateField(required=False, help_text="monthly: first day")
    date_to = serializers.DateField(required=False, help_text="monthly: last day")

    def parameters(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "incident": data.get("incident", ""),
            "review": data.get("review"),
            "drill_run": data.get("drill_run"),
            "mode_change": data.get("mode_change"),
            "from": data.get("date_from"),
            "to": data.get("date_to"),
        }


class ReportFileSerializer(serializers.ModelSerializer[ReportFile]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportFile
        fields = ["format", "sha256", "size", "url"]

    def get_url(self, obj: ReportFile) -> str:
        return f"/api/v1/reports/{obj.report_id}/report.{obj.format}"


class ReportSerializer(serializers.ModelSerializer[Report]):
    requested_by = serializers.CharField(
        source="requested_by.username", read_only=True, default=None, allow_null=True
    )
    files = ReportFileSerializer(many=True, read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "title",
            "parameters",
            "state",
            "error",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "files",
        ]
