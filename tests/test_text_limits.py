"""Every free-text input has a maximum length (issue 14 item 11): each form's and
each input serializer's text fields declare `max_length`, the services refuse
longer text with a message naming the field, and a long unbroken word wraps.

The walks find new forms and serializers by themselves, so the next text field
added without a limit fails here."""

from __future__ import annotations

import importlib
import inspect
import re
from types import ModuleType

import pytest
from django import forms
from django.urls import reverse
from rest_framework import serializers

from incidents import services as incident_services
from opsportal.core.errors import ValidationFailed
from opsportal.core.text import NOTE_MAX

FORM_MODULES = [
    "incidents.forms",
    "incidents.reviews.forms",
    "drills.forms",
    "opsportal.approvals.forms",
    "opsportal.controls.forms",
]
SERIALIZER_MODULES = [
    "incidents.serializers",
    "incidents.reviews.serializers",
    "drills.serializers",
    "opsportal.approvals.serializers",
    "opsportal.controls.serializers",
]


# The naming convention of API input serializers: TransitionIn, ReasonInput,
# StepRecordInputSerializer.
INPUT_NAME = re.compile(r"(In|Input|InputSerializer)$")


def _classes(module: ModuleType, base: type) -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls.__module__ == module.__name__
    ]


def _form_text_fields() -> list[tuple[str, object]]:
    found = []
    for name in FORM_MODULES:
        for cls in _classes(importlib.import_module(name), forms.BaseForm):
            for field_name, field in cls.base_fields.items():
                if isinstance(field, forms.CharField):
                    found.append((f"{cls.__name__}.{field_name}", field))
    return found


def _serializer_text_fields() -> list[tuple[str, object]]:
    found = []
    for name in SERIALIZER_MODULES:
        for cls in _classes(importlib.import_module(name), serializers.Serializer):
            if not INPUT_NAME.search(cls.__name__):
                continue  # output serializers only render stored values
            for field_name, field in cls._declared_fields.items():
                child = getattr(field, "child", None)
                for label, candidate in ((field_name, field), (f"{field_name}[]", child)):
                    writable = isinstance(candidate, serializers.CharField) and not (
                        candidate.read_only or field.read_only
                    )
                    if writable:
                        found.append((f"{cls.__name__}.{label}", candidate))
    return found


@pytest.mark.parametrize(("name", "field"), _form_text_fields(), ids=lambda v: str(v)[:60])
def test_every_form_text_field_has_a_maximum_length(name, field):
    assert field.max_length is not None, f"{name} accepts text of any length"


@pytest.mark.parametrize(("name", "field"), _serializer_text_fields(), ids=lambda v: str(v)[:60])
def test_every_api_input_text_field_has_a_maximum_length(name, field):
    assert field.max_length is not None, f"{name} accepts text of any length"


def test_a_note_over_the_limit_is_refused_by_the_service_naming_the_field(users):
    incident = incident_services.incident_open(
        actor=users["operator1"], title="Broker down", severity="SEV3"
    )

    with pytest.raises(ValidationFailed) as refused:
        incident_services.timeline_entry_add(
            incident=incident, actor=users["operator1"], kind="note", body="x" * (NOTE_MAX + 1)
        )

    assert (refused.value.field, refused.value.message) == (
        "body",
        "The text is 10,001 characters long; the limit is 10,000. "
        "Shorten it, or link the rest as evidence.",
    )


def test_a_100000_character_note_through_the_page_is_a_form_error(users, client_for):
    incident = incident_services.incident_open(
        actor=users["operator1"], title="Broker down", severity="SEV3"
    )

    response = client_for("operator1").post(
        reverse("incidents:note_add", args=[incident.pk]), {"kind": "note", "body": "x" * 100_000}
    )

    assert response.status_code == 400
    assert "at most 10000 characters (it has 100000)" in response.content.decode()
    assert not incident.timeline.filter(kind="note").exists()


def test_a_100000_character_note_through_the_api_is_a_400_naming_the_field(users, client_for):
    incident = incident_services.incident_open(
        actor=users["operator1"], title="Broker down", severity="SEV3"
    )

    response = client_for("operator1").post(
        f"/api/v1/incidents/{incident.pk}/timeline",
        {"kind": "note", "body": "x" * 100_000},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "body" in response.content.decode()
