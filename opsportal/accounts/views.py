"""Account pages: the sign-in lockout page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opsportal.accounts.step_up import retry_in_words


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
