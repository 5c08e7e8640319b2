"""Browser forms for deciding on approval requests. Each has its own prefix so the
approve and reject forms can live on one page with distinct labels."""

from __future__ import annotations

from django import forms

from opsportal.core.text import COMMENT_MAX, PASSWORD_MAX, REASON_MAX


class ApproveForm(forms.Form):
    prefix = "approve"

    password = forms.CharField(
        max_length=PASSWORD_MAX,
        label="Your password (to approve)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    payload_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    comment = forms.CharField(
        max_length=COMMENT_MAX,
        label="Comment (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(forms.Form):
    prefix = "reject"

    reason = forms.CharField(
        max_length=REASON_MAX,
        label="Reason for rejecting",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    password = forms.CharField(
        max_length=PASSWORD_MAX,
        label="Your password (to reject)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CancelForm(forms.Form):
    prefix = "cancel"

    reason = forms.CharField(
        max_length=REASON_MAX,
        label="Reason for cancelling",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AuditPurgeRequestForm(forms.Form):
    """Asking for a purge of the audit trail past its retention (`audit_purge`)."""

    cutoff = forms.DateField(
        label="Purge events older than (UTC date, optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: the retention limit. A later date is refused.",
    )
    reason = forms.CharField(
        max_length=REASON_MAX,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=(
            "I understand: once two approvers approve, these events are deleted for good; "
            "the checkpoint that closes the range is kept so the rest of the chain verifies."
        ),
        error_messages={"required": "Tick the box to confirm the purge is meant."},
    )
