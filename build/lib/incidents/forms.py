"""Browser forms. They validate input shape; the rules live in incidents.services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from incidents.models import MAX_ORDERS_AFFECTED, ResponseRole, StatusUpdate
from incidents.severity import SEVERITY_CHOICES
from incidents.status_templates import TEMPLATE_FIELDS
from opsportal.controls.models import Environment
from opsportal.core.text import NOTE_MAX, STATUS_FIELD_MAX, SUMMARY_MAX

YES_NO = [("no", "No"), ("yes", "Yes")]


class IncidentCreateForm(forms.Form):
    # Triage (incident-response-playbook-sev-levels.md "Triage Decision Tree").
    money_at_risk = forms.BooleanField(
        required=False, label="Is trading losing money, or is money at risk?"
    )
    service_down = forms.BooleanField(required=False, label="Is a service completely down?")
    core_service = forms.BooleanField(
        required=False,
        label="Is it a core trading service (order routing, execution, risk checks)?",
    )
    degraded = forms.BooleanField(required=False, label="Is performance degraded?")

    title = forms.CharField(max_length=200, label="Title")
    severity = forms.ChoiceField(choices=[("", "Choose…"), *SEVERITY_CHOICES], label="Severity")
    summary = forms.CharField(
        max_length=SUMMARY_MAX, widget=forms.Textarea, required=False, label="Summary"
    )
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.all(), required=False, label="Environment"
    )
    trading_halted = forms.BooleanField(required=False, label="Trading halted (kill switch)")
    pnl_impact = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        label="P&L impact",
        help_text="Negative for a loss.",
    )
    pnl_currency = forms.CharField(max_length=3, initial="USD", label="Currency")
    orders_affected = forms.IntegerField(
        min_value=0, max_value=MAX_ORDERS_AFFECTED, required=False, label="Orders affected"
    )
    affected_systems = forms.CharField(max_length=300, required=False, label="Affected systems")
    playbook = forms.ChoiceField(required=False, label="Playbook")

    def __init__(
        self, *args: Any, playbooks: Iterable[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        playbook = self.fields["playbook"]
        assert isinstance(playbook, forms.ChoiceField)
        playbook.choices = [("", "None"), *playbooks]

    TRIAGE_FIELDS = ("money_at_risk", "service_down", "core_service", "degraded")


class TransitionForm(forms.Form):
    note = forms.CharField(max_length=500, required=False, label="Reason")


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, label="New severity")
    reason = forms.CharField(max_length=500, required=False, label="Reason for the change")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.get_username()})"


class RoleAssignForm(forms.Form):
    role = forms.ChoiceField(choices=ResponseRole.choices, label="Role")
    user = PersonChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        label="Person",
    )


class StatusUpdateForm(forms.Form):
    kind = forms.ChoiceField(choices=StatusUpdate.Kind.choices, label="Template")
    impact = forms.CharField(
        max_length=STATUS_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What is affected",
    )
    progress = forms.CharField(
        max_length=STATUS_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What has been done",
    )
    next_steps = forms.CharField(
        max_length=STATUS_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What happens next",
    )
    root_cause = forms.CharField(
        max_length=STATUS_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Root cause (short)",
    )
    action_items = forms.CharField(
        max_length=STATUS_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Follow-up actions",
    )

    def template_fields(self) -> dict[str, str]:
        kind = self.cleaned_data["kind"]
        return {name: self.cleaned_data.get(name, "") for name, _, _ in TEMPLATE_FIELDS[kind]}


class TimelineEntryForm(forms.Form):
    KINDS = [("note", "Note"), ("command", "Command run"), ("evidence", "Evidence link")]
    kind = forms.ChoiceField(choices=KINDS, label="Entry type")
    body = forms.CharField(
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Text",
        help_text="For a command: the command line as run. For evidence: what the link shows.",
    )
    url = forms.CharField(max_length=500, required=False, label="Link (evidence)")


class PlaybookAttachForm(forms.Form):
    procedure = forms.ChoiceField(label="Playbook")

    def __init__(
        self, *args: Any, playbooks: Iterable[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        procedure = self.fields["procedure"]
        assert isinstance(procedure, forms.ChoiceField)
        procedure.choices = list(playbooks)


class ChecklistTickForm(forms.Form):
    note = forms.CharField(max_length=500, required=False, label="Note")


class ImpactForm(forms.Form):
    trading_halted = forms.BooleanField(required=False, label="Trading halted (kill switch)")
    pnl_impact = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        label="P&L impact",
        help_text="Negative for a loss.",
    )
    pnl_currency = forms.CharField(max_length=3, label="Currency")
    orders_affected = forms.IntegerField(
        min_value=0, max_value=MAX_ORDERS_AFFECTED, required=False, label="Orders affected"
    )
    affected_systems = forms.CharField(max_length=300, required=False, label="Affected systems")
