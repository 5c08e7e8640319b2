"""Browser forms of the review editor: the review's sections, and formsets for the
whys, the contributing factors and the action items. They check shape and length;
the rules live in incidents.reviews.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from incidents.reviews.models import (
    MAX_ACTION_ITEMS,
    MAX_FACTORS,
    MAX_WHYS,
    ActionItem,
    ControlObjective,
)
from incidents.reviews.services import LINK_MAX, TITLE_MAX, WHY_MAX
from opsportal.core.text import NOTE_MAX, REASON_MAX, SUMMARY_MAX

MAX_ID = 2_147_483_647


def _text(label: str, limit: int, rows: int = 4, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReviewForm(forms.Form):
    summary = _text("Summary", SUMMARY_MAX, help_text="What happened, in a few sentences.")
    impact = _text(
        "Impact",
        SUMMARY_MAX,
        rows=8,
        help_text="Pre-filled from the incident: times to acknowledge, mitigate and resolve, "
        "how long trading was halted, P&L, orders, systems.",
    )
    timeline_entry_ids = forms.TypedMultipleChoiceField(
        label="Timeline excerpt",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The key entries (detection, acknowledgement, kill switch, mitigation, "
        "resolution) are picked for you.",
    )
    root_cause = _text("Root cause", NOTE_MAX, rows=3, help_text="Where the whys end.")
    went_well = _text("What went well", NOTE_MAX)
    went_poorly = _text("What went poorly", NOTE_MAX)
    lessons = _text("Lessons learned", NOTE_MAX)
    verification_plan = _text(
        "Verification plan", NOTE_MAX, help_text="How we will know the actions worked."
    )

    def __init__(self, *args: Any, timeline: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["timeline_entry_ids"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = timeline


class WhyForm(forms.Form):
    question = forms.CharField(label="Why?", max_length=WHY_MAX, required=False)
    answer = forms.CharField(
        label="Because",
        max_length=WHY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FactorForm(forms.Form):
    description = forms.CharField(label="Contributing factor", max_length=WHY_MAX, required=False)
    objective = forms.ChoiceField(
        label="Control objective",
        choices=[("", "Choose…"), *ControlObjective.choices],
        required=False,
    )


class ActionItemForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID)
    title = forms.CharField(label="Action", max_length=TITLE_MAX, required=False)
    owner = forms.ModelChoiceField(
        label="Owner", queryset=get_user_model().objects.none(), required=False
    )
    due_on = forms.DateField(
        label="Due",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(label="Type", choices=ActionItem.Kind.choices)
    priority = forms.ChoiceField(
        label="Priority", choices=ActionItem.Priority.choices, initial="medium"
    )
    link = forms.URLField(
        label="Ticket link", max_length=LINK_MAX, required=False, assume_scheme="https"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = get_user_model().objects.filter(is_active=True).order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("title") and not (data.get("owner") and data.get("due_on")):
            raise forms.ValidationError("An action needs an owner and a due date.")
        return data


WhyFormSet = forms.formset_factory(
    WhyForm, extra=0, min_num=1, max_num=MAX_WHYS, absolute_max=MAX_WHYS, validate_max=True
)
FactorFormSet = forms.formset_factory(
    FactorForm,
    extra=0,
    min_num=1,
    max_num=MAX_FACTORS,
    absolute_max=MAX_FACTORS,
    validate_max=True,
)
ActionItemFormSet = forms.formset_factory(
    ActionItemForm,
    extra=0,
    min_num=1,
    max_num=MAX_ACTION_ITEMS,
    absolute_max=MAX_ACTION_ITEMS,
    validate_max=True,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="What should change", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=ActionItem.Status.choices)
    reason = forms.CharField(label="Reason", max_length=500, required=False)


class ActionItemAddForm(forms.Form):
    title = forms.CharField(label="Action", max_length=TITLE_MAX)
    owner = forms.ModelChoiceField(label="Owner", queryset=get_user_model().objects.none())
    due_on = forms.DateField(
        label="Due", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(label="Type", choices=ActionItem.Kind.choices)
    priority = forms.ChoiceField(
        label="Priority", choices=ActionItem.Priority.choices, initial="medium"
    )
    link = forms.URLField(
        label="Ticket link", max_length=LINK_MAX, required=False, assume_scheme="https"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = get_user_model().objects.filter(is_active=True).order_by("username")
