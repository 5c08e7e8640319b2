"""The sign-off form every signable record's page uses (drill runs, post-incident
reviews), and the one call that turns a posted form into a sign-off."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from opsportal.core.text import COMMENT_MAX, PASSWORD_MAX
from opsportal.core.web import call_service
from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import ROLE_LABELS, signoff_sign


class SignForm(forms.Form):
    """Sign as one of `roles`, with a comment, the signer's password (step-up) and the
    SHA-256 of the content the signer saw (hidden; a stale one is refused)."""

    role = forms.ChoiceField(label="Sign as")
    comment = forms.CharField(
        max_length=COMMENT_MAX,
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    password = forms.CharField(
        max_length=PASSWORD_MAX,
        label="Your password (confirms it is you)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    content_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = [(r, ROLE_LABELS.get(r, r)) for r in roles]


def sign_from_form(request: HttpRequest, form: SignForm, target: Any) -> Signoff | None:
    """`signoff_sign` with the posted form's values for `request.user`: the Signoff,
    or None when the form is invalid or the service refused (its message is then on
    the form, through `call_service`)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    signoff: Signoff | None = call_service(
        request,
        signoff_sign,
        form=form,
        target=target,
        actor=request.user,
        role=data["role"],
        password=data["password"],
        content_sha256=data["content_sha256"],
        comment=data["comment"],
    )
    return signoff
