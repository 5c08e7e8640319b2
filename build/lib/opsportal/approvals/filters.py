"""List filters for approval requests (browser and API)."""

from __future__ import annotations

import django_filters

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import all_actions


def _action_choices() -> list[tuple[str, str]]:
    return [(spec.action, spec.label) for spec in all_actions()]


class ApprovalRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApprovalRequest.Status.choices, label="Status")
    action = django_filters.ChoiceFilter(choices=_action_choices, label="Action")
    requester = django_filters.CharFilter(
        field_name="requester__username", label="Requested by (username)"
    )

    class Meta:
        model = ApprovalRequest
        fields = ["status", "action", "requester"]
