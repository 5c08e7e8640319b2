"""Building blocks every browser view uses: declared permissions, domain-error
rendering, and the refusal audit.

A view states the permission it needs in `permission_required` (a "app.codename"
string or a tuple of them). A view that forgets raises ImproperlyConfigured: a
missing declaration is an error, never an open door.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse

from opsportal.core.errors import DomainError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")

DenialListener = Callable[[HttpRequest, "str | tuple[str, ...]"], None]
_DENIAL_LISTENERS: list[DenialListener] = []


def register_denial_listener(listener: DenialListener) -> None:
    """Call `listener(request, permission)` for every refused write (the audit app
    registers the "access.denied" event here; core cannot import it). Idempotent."""
    if listener not in _DENIAL_LISTENERS:
        _DENIAL_LISTENERS.append(listener)


def deny(request: HttpRequest, permission: str | tuple[str, ...]) -> PermissionDenied:
    """Tell the denial listeners about a refused write attempt and return the 403
    exception to raise."""
    if request.method in WRITE_METHODS:
        for listener in _DENIAL_LISTENERS:
            listener(request, permission)
    return PermissionDenied(f"requires {permission}")


class PortalPermissionMixin:
    """Checks `permission_required` on the server before any handler runs."""

    permission_required: str | tuple[str, ...] | None = None

    def get_permission_required(self) -> tuple[str, ...]:
        perm = self.permission_required
        if not perm:
            raise ImproperlyConfigured(
                f"{type(self).__name__} declares no permission_required; every view must."
            )
        return (perm,) if isinstance(perm, str) else tuple(perm)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        perms = self.get_permission_required()
        if not request.user.has_perms(perms):
            raise deny(request, perms if len(perms) > 1 else perms[0])
        # A mixin: the View after it in the MRO supplies dispatch, which mypy cannot see.
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def call_service(
    request: HttpRequest,
    fn: Callable[..., T],
    *,
    form: forms.Form | None = None,
    **kwargs: Any,
) -> T | None:
    """Run a service; on DomainError put its message on the form (under its field
    when the field exists) or in the messages, and return None so the caller
    re-renders with the user's input intact."""
    try:
        return fn(**kwargs)
    except DomainError as exc:
        if form is not None:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            messages.error(request, exc.message)
        return None
