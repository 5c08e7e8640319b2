"""Output shapes of the drift API (documented in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from opsportal.drift.models import ClockCheck, ClockStatus, ConfigFinding, TimeSource


class ClockCheckOutput(serializers.Serializer):
    id = serializers.IntegerField()
    checked_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ClockStatus.choices)
    offset_ms = serializers.FloatField(allow_null=True)
    error_ms = serializers.FloatField(allow_null=True)
    rtt_ms = serializers.FloatField(allow_null=True)
    samples_taken = serializers.IntegerField()
    samples_asked = serializers.IntegerField()
    detail = serializers.CharField()
    is_drill = serializers.BooleanField()


class TimeSourceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    target = serializers.CharField()
    environments = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=ClockStatus.choices)
    neutral_reason = serializers.CharField()
    healthy_streak = serializers.IntegerField()
    interval_seconds = serializers.IntegerField()
    limits_ms = serializers.DictField(child=serializers.IntegerField())
    incident = serializers.IntegerField(allow_null=True)
    latest_check = ClockCheckOutput(allow_null=True)


class FindingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    environment = serializers.CharField()
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    baseline_sha256 = serializers.CharField()
    running_sha256 = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())
    incident = serializers.IntegerField(allow_null=True)


def check_dict(check: ClockCheck) -> dict[str, Any]:
    return {
        "id": check.pk,
        "checked_at": check.checked_at,
        "status": check.status,
        "offset_ms": check.offset_ms,
        "error_ms": check.error_ms,
        "rtt_ms": check.rtt_ms,
        "samples_taken": check.samples_taken,
        "samples_asked": check.samples_asked,
        "detail": check.detail,
        "is_drill": check.is_drill,
    }


def source_dict(source: TimeSource, status: str, latest: ClockCheck | None) -> dict[str, Any]:
    return {
        "id": source.pk,
        "name": source.name,
        "kind": source.kind,
        "target": source.target,
        "environments": [e.slug for e in source.environments.all()],
        "status": status,
        "neutral_reason": source.neutral_reason,
        "healthy_streak": source.healthy_streak,
        "interval_seconds": source.interval_seconds,
        "limits_ms": {
            "ahead_warning": source.ahead_warning_ms,
            "ahead_critical": source.ahead_critical_ms,
            "ahead_breach": source.ahead_breach_ms,
            "behind_warning": source.behind_warning_ms,
            "behind_critical": source.behind_critical_ms,
            "behind_breach": source.behind_breach_ms,
        },
        "incident": source.incident_id,
        "latest_check": check_dict(latest) if latest else None,
    }


def finding_dict(finding: ConfigFinding) -> dict[str, Any]:
    return {
        "id": finding.pk,
        "environment": finding.target.environment.slug,
        "opened_at": finding.opened_at,
        "resolved_at": finding.resolved_at,
        "baseline_sha256": finding.baseline_sha256,
        "running_sha256": finding.running_sha256,
        "changes": finding.changes,
        "incident": finding.incident_id,
    }
