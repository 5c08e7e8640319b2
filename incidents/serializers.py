"""API input and output shapes for incidents."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from incidents.models import MAX_ORDERS_AFFECTED, Incident, TimelineEntry
from incidents.severity import SEVERITY_CHOICES
from opsportal.accounts.models import User
from opsportal.controls.models import Environment
from opsportal.core.api import text_input
from opsportal.core.text import NOTE_MAX, SUMMARY_MAX


class TimelineEntryOut(serializers.ModelSerializer):
    # None for the system's own entries (a kill switch from an alert, a drift check).
    author: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = TimelineEntry
        fields = ["id", "occurred_at", "kind", "author", "body", "metadata"]


class IncidentOut(serializers.ModelSerializer):
    environment: serializers.SlugRelatedField[Environment] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    severity_alias = serializers.CharField(source="sev.alias", read_only=True)
    sla_breached = serializers.SerializerMethodField()
    update_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "summary",
            "severity",
            "severity_alias",
            "status",
            "environment",
            "trading_halted",
            "pnl_impact",
            "pnl_currency",
            "orders_affected",
            "affected_systems",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "ack_due_at",
            "next_update_due_at",
            "sla_breached",
            "update_overdue",
        ]

    def get_sla_breached(self, obj: Incident) -> bool:
        return obj.sla_breached()

    def get_update_overdue(self, obj: Incident) -> bool:
        return obj.update_overdue()


class IncidentDetailOut(IncidentOut):
    timeline = TimelineEntryOut(many=True, read_only=True)

    class Meta(IncidentOut.Meta):
        fields = [*IncidentOut.Meta.fields, "timeline"]


class IncidentOpenIn(serializers.Serializer):
    title = text_input(max_length=200)
    severity = serializers.ChoiceField(choices=SEVERITY_CHOICES)
    summary = serializers.CharField(
        max_length=SUMMARY_MAX, required=False, allow_blank=True, default=""
    )
    environment = serializers.SlugField(
        max_length=64, required=False, allow_null=True, default=None
    )
    trading_halted = serializers.BooleanField(required=False, default=False)
    orders_affected = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=MAX_ORDERS_AFFECTED
    )
    playbook = serializers.SlugField(max_length=100, required=False, allow_null=True, default=None)


class TransitionIn(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TimelineEntryIn(serializers.Serializer):
    """What the view validates; the schema documents the three shapes below (the
    service's rules per kind), so a schema-valid entry is one the service accepts."""

    kind = serializers.ChoiceField(choices=["note", "command", "evidence"])
    body = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")
    url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TimelineNoteIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["note"])
    body = text_input(max_length=NOTE_MAX)


class TimelineCommandIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["command"])
    body = text_input(max_length=NOTE_MAX, help_text="The command that was run.")


class TimelineEvidenceIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["evidence"])
    url = serializers.URLField(max_length=500, help_text="An http:// or https:// link.")
    body = serializers.CharField(
        max_length=NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Defaults to the link.",
    )


TIMELINE_ENTRY_SCHEMA = PolymorphicProxySerializer(
    component_name="TimelineEntryIn",
    serializers={
        "note": TimelineNoteIn,
        "command": TimelineCommandIn,
        "evidence": TimelineEvidenceIn,
    },
    resource_type_field_name="kind",
)
