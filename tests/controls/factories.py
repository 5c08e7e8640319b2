from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from opsportal.controls.models import Environment


class EnvironmentFactory(factory.django.DjangoModelFactory):
    """A DRY_RUN environment whose DRY_RUN period began 30 days ago (the live
    transition's duration precondition passes), kill switch ACTIVE."""

    class Meta:
        model = Environment
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"env-{n}")
    name = factory.LazyAttribute(lambda e: f"Environment {e.slug}")
    venue = "paper"
    dry_run_since = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    mode_changed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
