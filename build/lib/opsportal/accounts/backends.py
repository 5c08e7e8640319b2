"""The sign-in backend: django-axes' lockout in front of Django's ModelBackend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a sign-in while its username and address are locked out (settings:
    OPSPORTAL_LOGIN_FAILURE_LIMIT, OPSPORTAL_LOGIN_LOCKOUT_SECONDS); ModelBackend,
    next in AUTHENTICATION_BACKENDS, checks the password.

    Every sign-in over HTTP passes a request. `authenticate()` without one is code
    in the portal's own process (the test client's `login()`, a shell), which has no
    address to lock; axes would raise, so this backend steps aside for it instead."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
