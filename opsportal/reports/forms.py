"""Forms of the reports pages: the request form (any kind, with its object or range)
and the list filters."""

from __future__ import annotations

from typing import Any

from django import forms

from opsportal.accounts.models import User
from opsportal.core.api import MAX_ID
from opsportal.reports.models import Kind, Report

# An incident reference (INC-YYYYMMDD-NNN) or number.
INCIDENT_REF_MAX = 40


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, label="Report")
    incident = forms.CharField(
        required=False,
        max_length=INCIDENT_REF_MAX,
        label="Incident",
        help_text="Reference (INC-…) or number; incident and review reports.",
    )
    review = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        label="Review #",
        help_text="Review reports (or give its incident).",
    )
    drill_run = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        label="Drill run #",
        help_text="Drill reports.",
    )
    mode_change = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        label="Rollback #",
        help_text="Rollback reports: the mode change number on the environment page.",
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def parameters(self) -> dict[str, Any]:
        """The parameters the chosen kind takes (validated by the service)."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind == Kind.INCIDENT:
            return {"incident": data.get("incident") or ""}
        if kind == Kind.REVIEW:
            return {"review": data.get("review"), "incident": data.get("incident") or ""}
        if kind == Kind.DRILL:
            return {"drill_run": data.get("drill_run")}
        if kind == Kind.ROLLBACK:
            return {"mode_change": data.get("mode_change")}
        return {"from": data.get("date_from"), "to": data.get("date_to")}


FIELD_FOR_PARAMETER = {
    "incident": "incident",
    "review": "review",
    "drill_run": "drill_run",
    "mode_change": "mode_change",
    "from": "date_from",
    "to": "date_to",
}


class ReportFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    state = forms.ChoiceField(choices=[("", "Any state"), *Report.State.choices], required=False)
    requested_by = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"),
        required=False,
        empty_label="Anyone",
        label="Requested by",
    )
