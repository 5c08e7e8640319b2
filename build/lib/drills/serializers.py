"""DRF serializers for drill runs: input shape only, the rules are in the services."""

from __future__ import annotations

from rest_framework import serializers

from drills.models import DrillActionItem, DrillRun, DrillStepResult
from opsportal.core.api import password_input, text_input
from opsportal.core.text import COMMENT_MAX, NOTE_MAX, REASON_MAX
from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import required_roles_for, signable_sha256, signoffs_for


class StepResultSerializer(serializers.ModelSerializer):
    step_id = serializers.IntegerField(source="pk", read_only=True)
    title = serializers.CharField(source="step.title", read_only=True)
    scenario = serializers.CharField(source="step.scenario", read_only=True)
    time_target_seconds = serializers.IntegerField(
        source="step.time_target_seconds", read_only=True, allow_null=True
    )
    measured_seconds = serializers.FloatField(read_only=True, allow_null=True)
    within_target = serializers.BooleanField(read_only=True, allow_null=True)
    performed_by = serializers.CharField(
        source="performed_by.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = DrillStepResult
        fields = [
            "step_id",
            "position",
            "scenario",
            "title",
            "time_target_seconds",
            "outcome",
            "outcome_reason",
            "skip_reason",
            "measured_ms",
            "measured_seconds",
            "within_target",
            "automated",
            "started_at",
            "ended_at",
            "performed_by",
            "observations",
            "evidence_links",
        ]


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = DrillActionItem
        fields = ["id", "title", "owner", "due_on", "status"]


class SignoffSerializer(serializers.ModelSerializer):
    """A sign-off; `valid` says whether it still holds (not void, and made on the
    content the record has now: `content_sha256` in the serializer's context)."""

    signer = serializers.CharField(source="signer.username", read_only=True)
    valid = serializers.SerializerMethodField()

    class Meta:
        model = Signoff
        fields = [
            "id",
            "role",
            "signer",
            "signed_at",
            "comment",
            "content_sha256",
            "voided_at",
            "void_reason",
            "valid",
        ]

    def get_valid(self, signoff: Signoff) -> bool:
        return signoff.voided_at is None and signoff.content_sha256 == self.context.get(
            "content_sha256"
        )


class DrillRunListSerializer(serializers.ModelSerializer):
    procedure = serializers.CharField(source="procedure_version.procedure.slug")
    procedure_version = serializers.IntegerField(source="procedure_version.version")
    environment = serializers.CharField(source="environment.slug")
    lead = serializers.CharField(source="lead.username")
    observer = serializers.CharField(source="observer.username", default=None, allow_null=True)

    class Meta:
        model = DrillRun
        fields = [
            "id",
            "procedure",
            "procedure_version",
            "environment",
            "state",
            "result",
            "lead",
            "observer",
            "planned_at",
            "started_at",
            "completed_at",
            "signed_off_at",
            "environment_mode",
        ]


class DrillRunDetailSerializer(DrillRunListSerializer):
    participants = serializers.SerializerMethodField()
    steps = StepResultSerializer(source="step_results", many=True, read_only=True)
    issues = ActionItemSerializer(source="action_items", many=True, read_only=True)
    signoffs = serializers.SerializerMethodField()
    required_signoff_roles = serializers.SerializerMethodField()
    content_sha256 = serializers.SerializerMethodField()

    class Meta(DrillRunListSerializer.Meta):
        fields = [
            *DrillRunListSerializer.Meta.fields,
            "aborted_at",
            "abort_reason",
            "participants",
            "steps",
            "issues",
            "signoffs",
            "required_signoff_roles",
            "content_sha256",
        ]

    def get_participants(self, run: DrillRun) -> list[str]:
        return sorted(p.username for p in run.participants.all())

    def get_signoffs(self, run: DrillRun) -> list[dict]:
        context = {"content_sha256": signable_sha256(run)}
        return [
            SignoffSerializer(signoff, context=context).data
            for signoff in signoffs_for(run, include_void=True)
        ]

    def get_required_signoff_roles(self, run: DrillRun) -> list[str]:
        return required_roles_for(run)

    def get_content_sha256(self, run: DrillRun) -> str:
        return signable_sha256(run)


class StepRecordInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["pass", "fail", "skipped"])
    measured_seconds = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=0, required=False, allow_null=True
    )
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    observations = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default=""
    )
    evidence_links = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, default=list
    )
    skip_reason = serializers.CharField(
        max_length=REASON_MAX, required=False, allow_blank=True, default=""
    )


class SignInputSerializer(serializers.Serializer):
    role = text_input(max_length=32)
    password = password_input()
    content_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", max_length=64)
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default=""
    )
