"""API building blocks: fail-closed permission declaration for DRF views, and the
bounded JSON parser every API write goes through, and the
JSON 404 for paths under /api/v1/ that no route matches."""

from __future__ import annotations

import inspect
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import RegexValidator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from opsportal.core.text import PASSWORD_MAX
from opsportal.core.web import WRITE_METHODS, deny

# Limits of a JSON request body. Generous for people and engines (an approval
# payload is at most 64,000 characters), far below what could exhaust the stack or
# the memory of a worker.
JSON_MAX_BYTES = 1_000_000
JSON_MAX_DEPTH = 32
# The largest row id (PostgreSQL bigint): bound every id a form or serializer takes.
MAX_ID = 9_223_372_036_854_775_807


class DeclaredPermission(BasePermission):
    """The default permission class. A view states `required_permission`
    ("app.codename" or a tuple), as a class attribute or a property that may look at
    the method; one that does not is misconfigured (500 in tests). An anonymous
    request is refused before the declaration is evaluated, so nothing an anonymous
    caller sends reaches it. Refused writes are audited."""

    def has_permission(self, request: Request, view: Any) -> bool:
        # getattr_static: a property that fails must not pass for "not declared".
        if not inspect.getattr_static(view, "required_permission", None):
            raise ImproperlyConfigured(f"{type(view).__name__} declares no required_permission")
        if not (request.user and request.user.is_authenticated):
            return False
        perm = view.required_permission
        if not perm:
            raise ImproperlyConfigured(f"{type(view).__name__} declares no required_permission")
        perms = (perm,) if isinstance(perm, str) else tuple(perm)
        if request.user.has_perms(perms):
            return True
        if request.method in WRITE_METHODS:
            deny(request._request, perm)
        return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with limits (the default parser, settings.REST_FRAMEWORK):
    at most JSON_MAX_BYTES bytes, JSON_MAX_DEPTH levels of nesting, and no NUL
    character in any string or key (PostgreSQL cannot store one). Each refusal is a
    ParseError: 400 `{"error": {"code": "parse_error", "message": ...}}` naming the
    problem, never a RecursionError or DataError (500)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read(JSON_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > JSON_MAX_BYTES:
            raise ParseError(f"JSON body too large: at most {JSON_MAX_BYTES} bytes.")
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_no_constant)
        except RecursionError:
            raise ParseError(f"JSON nested too deeply: at most {JSON_MAX_DEPTH} levels.") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
        _check_json(data)
        return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_json(data: Any) -> None:
    """ParseError when `data` nests deeper than JSON_MAX_DEPTH or holds a NUL in a
    string or key. Iterative: the depth limit is what keeps the stack safe."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError("JSON string contains a NUL character (\\u0000), not allowed.")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > JSON_MAX_DEPTH:
            raise ParseError(f"JSON nested too deeply: at most {JSON_MAX_DEPTH} levels.")
        items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
        for key, item in items:
            if key is not None and "\x00" in key:
                raise ParseError("JSON key contains a NUL character (\\u0000), not allowed.")
            pending.append((item, depth + 1))


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
    echoed back; `minLength: 1` and `maxLength: PASSWORD_MAX` in the schema."""
    return serializers.CharField(
        min_length=1,
        max_length=PASSWORD_MAX,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
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
