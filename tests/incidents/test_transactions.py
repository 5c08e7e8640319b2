"""Where the incident services' transactions begin and end (issue #8 part 3): each
public service owns a durable transaction; the `_in_transaction` variants the controls
listener composes join the caller's and roll back with it."""

import pytest
from django.db import transaction

from incidents import services
from incidents.models import Incident, TimelineEntry


class CallerRolledBack(Exception):
    """Raised by a test to roll back the caller's transaction."""


@pytest.mark.django_db(transaction=True)
def test_incident_open_inside_a_callers_transaction_raises(users):
    with pytest.raises(RuntimeError, match="owns its transaction"), transaction.atomic():
        services.incident_open(actor=users["operator1"], title="Feed down", severity="SEV3")


@pytest.mark.django_db(transaction=True)
def test_incident_open_in_transaction_rolls_back_with_its_caller(users):
    with pytest.raises(CallerRolledBack), transaction.atomic():
        services.incident_open_in_transaction(
            actor=users["operator1"], title="Feed down", severity="SEV3"
        )
        raise CallerRolledBack

    assert not Incident.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_timeline_entry_add_in_transaction_rolls_back_with_its_caller(users):
    incident = services.incident_open(actor=users["operator1"], title="Feed down", severity="SEV3")

    with pytest.raises(CallerRolledBack), transaction.atomic():
        services.timeline_entry_add_in_transaction(
            incident=incident, actor=None, kind="control", body="Kill switch triggered."
        )
        raise CallerRolledBack

    assert not TimelineEntry.objects.filter(incident=incident, kind="control").exists()
