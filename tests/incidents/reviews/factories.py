"""Review factories for lists and query counts; behaviour tests go through the
services (tests/incidents/reviews/conftest.py)."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from incidents.models import ActionItem, PostIncidentReview
from tests.incidents.factories import IncidentFactory


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostIncidentReview

    incident = factory.SubFactory(IncidentFactory, severity="SEV1", status="resolved")
    required = True
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda o: o.created_at)
    due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=48))
    summary = "Orders looped."
    whys = factory.LazyFunction(lambda: [{"question": "Why?", "answer": "Because."}])
    root_cause = "A retry loop."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    review = factory.SubFactory(ReviewFactory)
    incident = factory.LazyAttribute(lambda o: o.review.incident)
    title = factory.Sequence(lambda n: f"Action {n}")
    due_on = factory.LazyFunction(lambda: date.today() + timedelta(days=7))
    created_at = factory.LazyFunction(timezone.now)
