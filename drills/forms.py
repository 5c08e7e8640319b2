"""Forms for drill schedules, runs and sign-offs. They validate input shape only;
the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from drills.models import DrillActionItem, DrillRun
from drills.selectors import AUTOMATED_PROCEDURES
from opsportal.controls.models import Environment
from opsportal.core.text import NOTE_MAX, REASON_MAX
from opsportal.library.models import Procedure, ProcedureVersion

User = get_user_model()


def drill_procedures() -> QuerySet[Procedure]:
    """Procedures a run can follow: published drills and the kill-switch verification."""
    published = ProcedureVersion.objects.filter(status=ProcedureVersion.Status.PUBLISHED)
    return (
        Procedure.objects.filter(versions__in=published)
        .filter(Q(kind=Procedure.Kind.DRILL) | Q(slug__in=AUTOMATED_PROCEDURES))
        .distinct()
        .order_by("title")
    )


def active_users() -> QuerySet[Any]:
    return User.objects.filter(is_active=True).order_by("username")


def _user_label(user: Any) -> str:
    full = user.get_full_name()
    return f"{user.get_username()} ({full})" if full else user.get_username()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


class RunFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any"), *DrillRun.State.choices]
    )
    result = forms.ChoiceField(
        label="Result", required=False, choices=[("", "Any"), *DrillRun.Result.choices]
    )
    procedure = forms.ChoiceField(label="Procedure", required=False)
    environment = forms.ChoiceField(label="Environment", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        procedure, environment = self.fields["procedure"], self.fields["environment"]
        assert isinstance(procedure, forms.ChoiceField)
        assert isinstance(environment, forms.ChoiceField)
        procedure.choices = [("", "Any")] + [(p.slug, p.title) for p in drill_procedures()]
        environment.choices = [("", "Any")] + [
            (slug, slug) for slug in Environment.objects.values_list("slug", flat=True)
        ]


class PlanRunForm(forms.Form):
    procedure = forms.ModelChoiceField(label="Procedure", queryset=Procedure.objects.none())
    environment = forms.ModelChoiceField(
        label="Environment", queryset=Environment.objects.order_by("slug")
    )
    lead = UserChoiceField(label="Drill lead", queryset=User.objects.none())
    observer = UserChoiceField(
        label="Observer",
        queryset=User.objects.none(),
        required=False,
        help_text="Watches and may sign as observer; must not be the lead.",
    )
    participants = UserMultipleChoiceField(
        label="Participants",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    planned_at = forms.DateTimeField(
        label="Planned for (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    notes = forms.CharField(
        max_length=NOTE_MAX, label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        procedure, lead, observer, participants = (
            self.fields[name] for name in ("procedure", "lead", "observer", "participants")
        )
        assert isinstance(procedure, forms.ModelChoiceField)
        assert isinstance(lead, forms.ModelChoiceField)
        assert isinstance(observer, forms.ModelChoiceField)
        assert isinstance(participants, forms.ModelChoiceField)
        procedure.queryset = drill_procedures()
        users = active_users()
        lead.queryset = users.filter(groups__name__in=["operator", "incident_commander"]).distinct()
        observer.queryset = users
        participants.queryset = users


class PrecheckTickForm(forms.Form):
    note = forms.CharField(label="Note", required=False, max_length=500)


class StartForm(forms.Form):
    confirm_live = forms.BooleanField(
        label="I confirm this drill runs against a LIVE trading environment.", required=False
    )


class StepRecordForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("pass", "Pass"), ("fail", "Fail"), ("skipped", "Skipped")],
    )
    measured_seconds = forms.DecimalField(
        label="Measured seconds",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=3,
        help_text="Required to pass a step with a time target.",
    )
    observations = forms.CharField(
        max_length=NOTE_MAX,
        label="Observations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence_links = forms.CharField(
        max_length=NOTE_MAX,
        label="Evidence links (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    skip_reason = forms.CharField(label="Reason for skipping", required=False, max_length=500)

    def clean_evidence_links(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["evidence_links"].splitlines()
            if line.strip()
        ]


class AutomationForm(forms.Form):
    confirm_live = forms.BooleanField(
        label="I confirm this acts on a LIVE trading environment.", required=False
    )


class ActionItemForm(forms.Form):
    title = forms.CharField(label="Issue / follow-up", max_length=300)
    owner = UserChoiceField(label="Owner", queryset=User.objects.none())
    due_on = forms.DateField(label="Due on", widget=forms.DateInput(attrs={"type": "date"}))
    step = forms.TypedChoiceField(label="Step", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, run: DrillRun | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner, step = self.fields["owner"], self.fields["step"]
        assert isinstance(owner, forms.ModelChoiceField)
        assert isinstance(step, forms.ChoiceField)
        owner.queryset = active_users()
        steps = run.step_results.all() if run is not None else []
        step.choices = [("", "—")] + [(r.pk, f"{r.position}. {r.step.title}") for r in steps]


class ActionItemStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=DrillActionItem.Status.choices)


class AbortForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX, label="Reason for aborting", widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label="Yes, abort this drill. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm aborting."},
    )
