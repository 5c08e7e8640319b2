"""Account pages: "Change password" for every signed-in user, the sign-in lockout page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.generic import FormView

from opsportal.accounts.services import user_password_change
from opsportal.accounts.step_up import retry_in_words
from opsportal.core.web import PortalPermissionMixin, call_service


class OwnPasswordChangeForm(SetPasswordForm):
    """Django's new-password pair (validated by AUTH_PASSWORD_VALIDATORS) and the
    current password, which the service checks (throttled like every step-up)."""

    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]


class PasswordChangeView(PortalPermissionMixin, FormView):
    """`/accounts/password/`: the signed-in user changes their own password, and stays
    signed in. Linked from every page's header."""

    template_name = "registration/password_change_form.html"
    form_class = OwnPasswordChangeForm

    def get_permission_required(self) -> tuple[str, ...]:
        # Declared: signing in is all it takes (LoginRequiredMiddleware); a user can
        # only ever change their own password here, with their current one.
        return ()

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: OwnPasswordChangeForm) -> HttpResponse:
        user = call_service(
            self.request,
            user_password_change,
            form=form,
            actor=self.request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password1"],
        )
        if user is None:
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "Your password was changed. You are still signed in.")
        return redirect("dashboard")


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the
    portal's page with how long to wait, 429."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))
    context = {
        "username": username[:150],
        "retry_in": retry_in_words(settings.OPSPORTAL_LOGIN_LOCKOUT_SECONDS),
    }
    return render(request, "registration/locked_out.html", context, status=429)
