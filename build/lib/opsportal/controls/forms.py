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
    # Set by the header's kill button on an incident's page: the incident the kill
    # was started from and that incident's environment (preselected). The kill is
    # linked to it only when the operator kept that environment.
    from_incident = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    from_environment = forms.SlugField(required=False, max_length=80, widget=forms.HiddenInput)

    def incident_to_link(self) -> int | None:
        """The incident number to link the kill to (call after is_valid()): the one
        typed in `incident`, else the page's incident when the chosen environment is
        the page's, else None (the incidents app then opens or reuses a SEV1)."""
        data = self.cleaned_data
        if data.get("incident"):
            return data["incident"]
        environment = data.get("environment")
        if environment is not None and data.get("from_environment") == environment.slug:
            return data.get("from_incident")
        return None


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


class GateTokenIssueForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which engine holds it, e.g. engine-valr-1.", strip=True
    )
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.order_by("slug"),
        to_field_name="slug",
        required=False,
        empty_label="All environments",
        help_text="The only gate it may read; all environments for an order router.",
    )
