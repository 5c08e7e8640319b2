"""Input and output shapes of the controls API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from opsportal.controls.models import Environment, ReasonCode
from opsportal.controls.selectors import GateDecision, HistoryEntry, cooldown_remaining_seconds
from opsportal.controls.verification import kill_switch_verification
from opsportal.core.api import MAX_ID, text_input


class TriggerInput(serializers.Serializer):
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    incident = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="Link this open incident.",
    )


class ReasonInput(serializers.Serializer):
    reason = text_input(max_length=4000)


class LiveTransitionInput(serializers.Serializer):
    reason = text_input(max_length=4000)
    attestations = serializers.DictField(
        child=serializers.BooleanField(),
        help_text='Pre-live checklist: {"<step position>": true, ...} for every item.',
    )


def gate_dict(decision: GateDecision) -> dict[str, Any]:
    return decision.as_dict()


def environment_dict(env: Environment, decision: GateDecision) -> dict[str, Any]:
    # The same derived answer as the environment page and the go-live precondition
    # (controls.verification): a drill run's evidence counts, not only the column.
    verification = kill_switch_verification(env)
    return {
        "slug": env.slug,
        "name": env.name,
        "venue": env.venue,
        "mode": env.mode,
        "mode_changed_at": env.mode_changed_at,
        "dry_run_since": env.dry_run_since,
        "last_rollback_at": env.last_rollback_at,
        "kill_switch": env.kill_switch,
        "killed_at": env.killed_at,
        "kill_reason_code": env.kill_reason_code,
        "recovery_cooldown_seconds": env.cooldown_seconds,
        "cooldown_remaining_seconds": cooldown_remaining_seconds(env),
        "resume_request": env.resume_request_id,
        "last_verified_at": verification.at if verification else None,
        "last_verified_detail": verification.detail if verification else "",
        "version": env.version,
        "gate": decision.as_dict(),
    }


def history_dict(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "occurred_at": entry.occurred_at,
        "category": entry.category,
        "kind": entry.kind,
        "actor": entry.actor,
        "from": entry.from_state,
        "to": entry.to_state,
        "reason_code": entry.reason_code,
        "note": entry.note,
        "incident": entry.incident_id,
        "approval_request": entry.approval_request_id,
        "requested_by": entry.requested_by,
        "is_drill": entry.is_drill,
        "version": entry.version,
    }


def approval_dict(request: Any) -> dict[str, Any]:
    return {
        "id": request.pk,
        "action": getattr(request, "action", None),
        "status": getattr(request, "status", None),
    }


# --- output shapes (for the OpenAPI schema; the views build plain dicts) ---


class GateDecisionOutput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["ALLOW", "NEUTRAL", "HALT"])
    reason_code = serializers.CharField()
    mode = serializers.CharField(allow_null=True)
    kill_switch = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(help_text="Treat the answer as HALT after this.")


class EnvironmentOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    venue = serializers.CharField()
    mode = serializers.CharField()
    mode_changed_at = serializers.DateTimeField()
    dry_run_since = serializers.DateTimeField(allow_null=True)
    last_rollback_at = serializers.DateTimeField(allow_null=True)
    kill_switch = serializers.CharField()
    killed_at = serializers.DateTimeField(allow_null=True)
    kill_reason_code = serializers.CharField()
    recovery_cooldown_seconds = serializers.IntegerField()
    cooldown_remaining_seconds = serializers.IntegerField()
    resume_request = serializers.IntegerField(allow_null=True)
    last_verified_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the kill switch was last seen to work (a drill or a drill-marked "
        "trigger and recovery); null: never. Going LIVE needs it within 24 h.",
    )
    last_verified_detail = serializers.CharField(
        help_text="What showed it, e.g. the drill run; empty when never verified."
    )
    version = serializers.IntegerField()
    gate = GateDecisionOutput()


class HistoryEntryOutput(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    category = serializers.ChoiceField(choices=["kill_switch", "mode"])
    kind = serializers.CharField()
    actor = serializers.CharField()
    reason_code = serializers.CharField()
    note = serializers.CharField()
    incident = serializers.IntegerField(allow_null=True)
    approval_request = serializers.IntegerField(allow_null=True)
    requested_by = serializers.CharField(
        help_text="The requester of a change made through an approval request, else empty."
    )
    is_drill = serializers.BooleanField()
    version = serializers.IntegerField()


class ApprovalRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    status = serializers.CharField()


class ApprovalCreatedOutput(serializers.Serializer):
    approval_request = ApprovalRefOutput()


class TriggerOutput(serializers.Serializer):
    event = serializers.DictField()
    environment = EnvironmentOutput()


class RollbackOutput(serializers.Serializer):
    mode_change = serializers.DictField()
    environment = EnvironmentOutput()
