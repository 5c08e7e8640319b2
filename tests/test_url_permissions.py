"""Issue 14 item 2: every view declares the permission it needs, for every method it
answers: walk the URL conf (tests/urlwalk.py) so a new view that forgets is caught
here, not by a 500 (ImproperlyConfigured) in production."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.views import View
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from opsportal.core.api import BoundedJSONParser, DeclaredPermission
from opsportal.core.web import PortalPermissionMixin
from tests.urlwalk import routes

pytestmark = pytest.mark.django_db

# Views open without a declared permission, and why.
PUBLIC = {
    "metrics": "Prometheus: client-address allow-list or scrape token, checked in the view",
    "health": "load balancers probe it without a session; answers no data",
    "login": "signing in",
    "logout": "signing out",
    "controls-api-gate": "trading engines, gate-token authenticated inside the view",
    "controls-api-gate-stream": "trading engines, gate-token authenticated inside the view",
    "alerts-api-alertmanager": "Alertmanager, integration-token authenticated inside the view",
    "alerts-api-grafana": "Grafana alerting, integration-token authenticated inside the view",
    "api-schema": "SPECTACULAR_SETTINGS SERVE_PERMISSIONS: any signed-in user",
    "api-docs": "SPECTACULAR_SETTINGS SERVE_PERMISSIONS: any signed-in user",
    "api-not-found": "the JSON 404 for /api/v1/ paths no route matches; reveals nothing",
    "password_change": "every signed-in user changes their own password (login required)",
}
SAMPLE_KWARGS = {
    "pk": 1,
    "slug": "paper",
    "verb": "acknowledge",
    "item_id": 1,
    "assignment_id": 1,
    "review_id": 1,
    "action_id": 1,
    "result_id": 1,
    "step_id": 1,
}
ROUTES = [r for r in routes() if r.name not in PUBLIC]


def _methods(view_class) -> list[str]:
    return [
        m
        for m in view_class.http_method_names
        if m not in ("options", "head") and hasattr(view_class, m)
    ]


def _exists(label: str) -> bool:
    app_label, codename = label.split(".", 1)
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


def _declared(view_class, method: str, route) -> tuple[str, ...]:
    """The permission `view_class` declares for `method`, evaluated on a request whose
    body is not an object (`[]`)."""
    kwargs = {name: SAMPLE_KWARGS[name] for name in route.params}
    if issubclass(view_class, APIView):
        raw = APIRequestFactory().generic(
            method.upper(), "/", "[]", content_type="application/json"
        )
        view = view_class()
        view.request = Request(raw, parsers=[BoundedJSONParser()])
        view.args, view.kwargs, view.format_kwarg = (), kwargs, None
        perm = view.required_permission
    else:
        view = view_class()
        view.request = RequestFactory().generic(method.upper(), "/")
        view.kwargs = kwargs
        perm = tuple(view.get_permission_required())
    return (perm,) if isinstance(perm, str) else tuple(perm)


def test_the_public_views_still_exist():
    assert set(PUBLIC) <= {r.name for r in routes()}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route or "/")
def test_every_view_declares_an_existing_permission_for_every_method(route):
    view_class = route.view_class
    is_api = isinstance(view_class, type) and issubclass(view_class, APIView)
    is_page = isinstance(view_class, type) and issubclass(view_class, View)

    assert is_api or is_page, f"{route.route}: a function view; make it a class that declares"
    assert (
        DeclaredPermission in view_class.permission_classes
        if is_api
        else issubclass(view_class, PortalPermissionMixin)
    ), f"{route.route}: {view_class.__name__} bypasses the declared-permission check"
    declared = {m: _declared(view_class, m, route) for m in _methods(view_class)}
    assert declared, f"{route.route}: answers no method"
    assert {m: [p for p in perms if not _exists(p)] for m, perms in declared.items()} == {
        m: [] for m in declared
    }
    assert all(declared.values())
