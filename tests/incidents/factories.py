"""Incident factories. `IncidentFactory` builds a row directly (for lists and query
counts); tests of behaviour open incidents through `incidents.services.incident_open`."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from incidents.models import Incident, Status
from incidents.severity import SEVERITIES
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    reference = factory.Sequence(lambda n: f"INC-20260101-{n + 1:03d}")
    title = factory.Sequence(lambda n: f"Broker disconnect #{n}")
    summary = "Session to the broker dropped."
    severity = "SEV2"
    status = Status.DETECTED
    detected_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyAttribute(lambda o: o.detected_at)
    ack_due_at = factory.LazyAttribute(
        lambda o: o.detected_at + timedelta(seconds=SEVERITIES[o.severity].response_seconds)
    )
    next_update_due_at = factory.LazyAttribute(
        lambda o: (
            o.detected_at + timedelta(seconds=SEVERITIES[o.severity].update_cadence_seconds)
            if SEVERITIES[o.severity].update_cadence_seconds
            else None
        )
    )


def publish_playbook(
    slug: str = "test-broker-disconnect", steps: int = 3, title: str = "Test playbook"
):
    """Publish a small incident playbook of `steps` steps; returns the version."""
    spec = parse_procedure(
        {
            "slug": slug,
            "kind": "incident_playbook",
            "title": title,
            "severity": "SEV2",
            "steps": [
                {
                    "title": f"Step {n}",
                    "instruction": f"Do thing {n}",
                    "expected_result": f"Thing {n} done",
                    "time_target_seconds": 60 * n,
                }
                for n in range(1, steps + 1)
            ],
        },
        origin="test",
    )
    return procedure_publish(spec=spec)[0]
