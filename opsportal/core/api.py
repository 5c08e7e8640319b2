"""API building blocks: fail-closed permission declaration for DRF views."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from opsportal.core.web import WRITE_METHODS, deny


class DeclaredPermission(BasePermission):
    """The default permission class. A view states `required_permission`
    ("app.codename" or a tuple); one that does not is misconfigured (500 in tests).
    Refused writes are audited."""

    def has_permission(self, request: Request, view: Any) -> bool:
        perm = getattr(view, "required_permission", None)
        if not perm:
            raise ImproperlyConfigured(f"{type(view).__name__} declares no required_permission")
        perms = (perm,) if isinstance(perm, str) else tuple(perm)
        if not (request.user and request.user.is_authenticated):
            return False
        if request.user.has_perms(perms):
            return True
        if request.method in WRITE_METHODS:
            deny(request._request, perm)
        return False
