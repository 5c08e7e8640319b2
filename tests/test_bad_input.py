"""Issue 14 item 2, the instances: input that used to be a 500 is a 400 (or 401/403)
naming the problem, and `orders_affected` given to the API is stored."""

from __future__ import annotations

import importlib
import importlib.util
import re

import pytest
from django import forms as django_forms
from django.apps import apps as django_apps
from django.core.validators import MaxValueValidator
from django.test import Client
from rest_framework import serializers

from incidents.models import Incident
from incidents.services import incident_open
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def incident(users):
    return incident_open(actor=users["operator1"], title="Broker lag", severity="SEV3")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/",
        "/api/v1/approvals/",
        "/api/v1/environments/paper/kill-switch/trigger",
        "/api/v1/environments/paper/live-transition",
    ],
)
def test_deeply_nested_json_is_400_naming_the_nesting(client_for, path):
    EnvironmentFactory(slug="paper")

    response = client_for("commander").post(path, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_json_body_over_the_size_limit_is_400(client_for):
    body = '{"title": "' + "x" * 1_100_000 + '", "severity": "SEV3"}'

    response = client_for("operator1").post(
        "/api/v1/incidents/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "too large" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", ["[]", '"x"', "7", "null"])
@pytest.mark.parametrize(("username", "status"), [("operator1", 400), (None, 403)])
def test_timeline_post_with_a_body_that_is_not_an_object(
    client_for, incident, body, username, status
):
    client = client_for(username) if username else Client()

    response = client.post(
        f"/api/v1/incidents/{incident.pk}/timeline", body, content_type="application/json"
    )

    assert response.status_code == status
    assert "error" in response.json()


def test_nul_in_a_json_string_is_400(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        '{"title": "bad\\u0000title", "severity": "SEV3"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]
    assert not Incident.objects.exists()


def test_nul_in_a_query_parameter_is_400_naming_it(client_for):
    response = client_for("auditor").get("/api/v1/drills/runs/?environment=%00")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "nul_character",
        "message": "query parameter 'environment' contains a NUL character, which is not allowed.",
        "field": "environment",
    }


def test_an_api_query_parameter_given_twice_is_400_naming_it(client_for):
    response = client_for("auditor").get("/api/v1/approvals/?page=x&page=")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "repeated_parameter"
    assert response.json()["error"]["field"] == "page"


def test_nul_in_a_form_field_is_400(client_for):
    response = client_for("operator1").post(
        "/incidents/new/", {"title": "a\x00b", "severity": "SEV2", "pnl_currency": "USD"}
    )

    assert response.status_code == 400
    assert "form field 'title' contains a NUL character" in response.content.decode()
    assert not Incident.objects.exists()


def test_nul_in_a_page_query_is_400(client_for):
    response = client_for("operator1").get("/incidents/?q=%00broker")

    assert response.status_code == 400


def test_api_open_stores_orders_affected(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        {"title": "Rejects", "severity": "SEV3", "orders_affected": 12},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["orders_affected"] == 12
    assert Incident.objects.get().orders_affected == 12


def test_api_open_with_orders_affected_beyond_the_column_is_400(client_for):
    response = client_for("operator1").post(
        "/api/v1/incidents/",
        {"title": "Rejects", "severity": "SEV3", "orders_affected": 3_000_000_000},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "orders_affected"


@pytest.mark.parametrize("value", ["3000000000", "9" * 20])
def test_create_form_with_orders_affected_beyond_the_column_rerenders(client_for, value):
    response = client_for("operator1").post(
        "/incidents/new/",
        {"title": "Rejects", "severity": "SEV2", "pnl_currency": "USD", "orders_affected": value},
    )

    assert response.status_code == 400
    assert "less than or equal to 2147483647" in response.content.decode()
    assert not Incident.objects.exists()


def test_impact_form_with_orders_affected_beyond_the_column_rerenders(client_for, incident):
    response = client_for("operator1").post(
        f"/incidents/{incident.pk}/impact/",
        {"impact-pnl_currency": "USD", "impact-orders_affected": "3000000000"},
    )

    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.orders_affected is None


def test_kill_form_with_an_incident_number_beyond_bigint_rerenders(client_for):
    EnvironmentFactory(slug="paper")

    response = client_for("operator1").post(
        "/environments/kill/",
        {"environment": "paper", "reason_code": "manual", "incident": "9" * 30},
    )

    assert response.status_code == 400


def _subclasses(cls):
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


PORTAL = ("incidents.", "drills.", "opsportal.")


def test_every_integer_a_form_or_input_serializer_takes_is_bounded():
    """The class fix for "3000000000 overflows the column": a new form or input
    serializer with an unbounded integer field fails here. Input serializers are the
    ones named `...In`, `...Input` or `...InputSerializer`."""
    modules = [
        f"{app.name}.{module}"
        for app in django_apps.get_app_configs()
        for module in ("forms", "serializers", "views", "api", "filters", "admin")
        if app.name.startswith(PORTAL) and importlib.util.find_spec(f"{app.name}.{module}")
    ]
    [importlib.import_module(m) for m in modules]
    forms_ = [c for c in _subclasses(django_forms.BaseForm) if c.__module__.startswith(PORTAL)]
    inputs = [
        c
        for c in _subclasses(serializers.Serializer)
        if c.__module__.startswith(PORTAL) and re.search(r"(In|Input|InputSerializer)$", c.__name__)
    ]
    fields = [
        (f"{c.__module__}.{c.__name__}.{n}", f) for c in forms_ for n, f in c.base_fields.items()
    ]
    fields += [
        (f"{c.__module__}.{c.__name__}.{n}", f) for c in inputs for n, f in c().fields.items()
    ]

    # ModelForm fields: the model field's range validators run in the form's clean.
    model_bounded = {
        f"{c.__module__}.{c.__name__}.{n}"
        for c in forms_
        if issubclass(c, django_forms.ModelForm)
        for n in c.base_fields
        if n in {f.name for f in c._meta.model._meta.fields}
        and any(
            isinstance(v, MaxValueValidator) for v in c._meta.model._meta.get_field(n).validators
        )
    }
    unbounded = [
        name
        for name, field in fields
        if isinstance(field, django_forms.IntegerField | serializers.IntegerField)
        and not getattr(field, "read_only", False)
        and field.max_value is None
        # A DecimalField (a forms.IntegerField subclass) is bounded by its max_digits.
        and getattr(field, "max_digits", None) is None
        and name not in model_bounded
    ]

    assert len(fields) > 20  # the walk found the portal's forms and serializers
    assert unbounded == []
