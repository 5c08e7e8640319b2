"""Whatever order people press the buttons in, the lifecycle stays consistent."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import services
from incidents.models import Status
from opsportal.core.errors import Conflict

pytestmark = pytest.mark.django_db

VERBS = list(services.PHASES)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    verbs=st.lists(st.sampled_from(VERBS), max_size=12), severity=st.sampled_from(["SEV2", "SEV3"])
)
def test_any_sequence_of_actions_keeps_the_record_consistent(users, verbs, severity):
    incident = services.incident_open(actor=users["operator1"], title="x", severity=severity)
    changes = 0
    for verb in verbs:
        before = incident.status
        try:
            incident = services.incident_transition(
                verb=verb, actor=users["commander"], incident=incident
            )
        except Conflict:
            continue
        changes += incident.status != before

    incident.refresh_from_db()
    assert incident.timeline.filter(kind="transition").count() == 1 + changes
    assert incident.status in Status.values
    assert (incident.status == Status.CLOSED) <= (severity == "SEV3")
    assert (incident.resolved_at is not None) == (incident.status in ("resolved", "closed"))
    assert (incident.acknowledged_at is None) <= (incident.status in ("detected", "declined"))
