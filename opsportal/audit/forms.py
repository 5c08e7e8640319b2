"""The audit page's filters and the export request form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from opsportal.audit import registry

SOURCES = [("", "Any"), *[(s, s) for s in ("web", "api", "command", "task", "system")]]
# An export covers at most this many days (one request, one bounded job).
EXPORT_MAX_DAYS = 3660


def event_type_choices() -> list[tuple[str, str]]:
    return [("", "Any"), *[(e.code, f"{e.code} — {e.label}") for e in registry.all_event_types()]]


class AuditFilterForm(forms.Form):
    start = forms.DateTimeField(
        label="From (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label="To (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    actor = forms.CharField(label="Actor (username)", required=False, max_length=150)
    event_type = forms.ChoiceField(label="Event type", required=False)
    object_type = forms.CharField(
        label="Object type", required=False, max_length=100, help_text="app_label.model"
    )
    object_id = forms.CharField(label="Object id", required=False, max_length=64)
    request_id = forms.CharField(label="Request id", required=False, max_length=64)
    source = forms.ChoiceField(label="Source", required=False, choices=SOURCES)
    q = forms.CharField(label="Object name contains", required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = event_type_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "The end must be after the start.")
        return data


class ExportRequestForm(forms.Form):
    start = forms.DateTimeField(
        label="From (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label="To (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                self.add_error("end", "The end must be after the start.")
            elif end - start > dt.timedelta(days=EXPORT_MAX_DAYS):
                self.add_error("end", f"An export covers at most {EXPORT_MAX_DAYS} days.")
        return data
