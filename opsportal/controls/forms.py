"""Browser forms for the control actions (the services validate again)."""

from __future__ import annotations

from typing import Any

from django import forms

from opsportal.controls.models import Environment, ReasonCode
from opsportal.controls.preconditions import AttestationItem
from opsportal.core.api import MAX_ID


class KillSwitchTriggerForm(forms.Form):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.all(), to_field_name="slug", empty_label=None
    )
    reason_code = forms.ChoiceField(label="Reason", choices=ReasonCode.choices)
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you saw. Optional: speed first.",
    )
    incident = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        label="Link to open incident (number)",
        help_text="Leave empty to open a SEV1 (drills open none).",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class LiveTransitionForm(forms.Form):
    """Reason plus one checkbox per item of the published pre-live checklist."""

    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, items: list[AttestationItem], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"attest_{item.key}"] = forms.BooleanField(
                required=False,
                label=f"{item.key}. {item.title}",
                help_text=item.instruction,
            )

    def attestations(self) -> dict[str, bool]:
        return {item.key: bool(self.cleaned_data.get(f"attest_{item.key}")) for item in self.items}
