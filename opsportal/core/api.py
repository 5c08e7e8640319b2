"""API building blocks: fail-closed permission declaration for DRF views, and the
JSON 404 for paths under /api/v1/ that no route matches."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
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


def text_input(**kwargs: Any) -> serializers.CharField:
    """A required text input that must say something: the OpenAPI schema states it
    (`minLength: 1` and a non-space character), so every value the schema allows is
    one the server accepts (a blank reason, title or role is refused with 400)."""
    return serializers.CharField(
        min_length=1,
        validators=[RegexValidator(r"\S", "This field may not be blank.")],
        **kwargs,
    )


def password_input() -> serializers.CharField:
    """The step-up password: required, kept exactly as typed (spaces count), never
    echoed back; `minLength: 1` in the schema."""
    return serializers.CharField(
        min_length=1, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


@csrf_exempt  # it changes nothing; a CSRF refusal would answer HTML instead of JSON
@login_not_required  # an unknown path is unknown to anyone; the answer reveals nothing
def api_not_found(request: HttpRequest) -> HttpResponse:
    """The last /api/v1/ route: `404 {"error": {"code": "not_found", ...}}` for any
    path no API route matches (a client or engine always gets the API's JSON error
    shape, never the HTML page). A GET/HEAD that only lacks its trailing slash is
    redirected as Django's APPEND_SLASH would (the catch-all hides it from Django)."""
    if (
        settings.APPEND_SLASH
        and request.method in ("GET", "HEAD")
        and not request.path.endswith("/")
    ):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(
        {"error": {"code": "not_found", "message": "No API endpoint at this path."}}, status=404
    )
