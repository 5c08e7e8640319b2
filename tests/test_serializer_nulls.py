"""Output serializers say `null` wherever the data can be null (issue 14, item 3:
schemathesis found `TimelineEntryOut.author` null for the system's own entries while
the schema said string). Every field of every model serializer whose source runs
through a nullable column or relation must allow null, so the schema documents it."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers


def our_modules():
    """Every `serializers` and `api` module of our apps (found, not listed: a new app's
    serializers are checked without touching this test)."""
    for config in apps.get_app_configs():
        if not config.name.startswith(("opsportal.", "incidents", "drills")):
            continue
        for leaf in ("serializers", "api"):
            name = f"{config.name}.{leaf}"
            if importlib.util.find_spec(name) is not None:
                yield importlib.import_module(name)


MODULES = list(our_modules())


def model_serializers():
    for module in MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, serializers.ModelSerializer)
                and value.__module__ == module.__name__
            ):
                yield value


def nullable_path(model, source: str) -> bool:
    """True when some hop of `source` ("owner.username") is a null=True model field."""
    for name in source.split("."):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a property or method: not a column
        if field.one_to_many or field.many_to_many:
            return False  # a list: empty, never null
        if getattr(field, "null", False):
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


@pytest.mark.parametrize("serializer", list(model_serializers()), ids=lambda s: s.__name__)
def test_fields_over_nullable_columns_allow_null(serializer):
    model = serializer.Meta.model

    wrong = [
        name
        for name, field in serializer().fields.items()
        if nullable_path(model, field.source) and not field.allow_null
    ]

    assert wrong == []
