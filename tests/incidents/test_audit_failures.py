"""The daily audit verification: a broken chain opens a SEV1 and is recorded."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from incidents.models import Incident
from opsportal.audit import chain
from opsportal.audit.selectors import last_verification
from opsportal.audit.services import audit_record
from opsportal.audit.tasks import audit_verify_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_daily_verification_of_an_intact_chain_opens_nothing(users):
    with transaction.atomic():
        audit_record(actor=None, event_type="user.created")

    assert audit_verify_task() is True

    assert last_verification().ok
    assert not Incident.objects.exists()


def test_a_failed_daily_verification_opens_a_sev1_and_is_recorded(users):
    for _ in range(3):
        with transaction.atomic():
            audit_record(actor=None, event_type="user.created")
    chain.audit_seal()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 2")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")

    assert audit_verify_task() is False

    verification = last_verification()
    assert (verification.ok, verification.failed_seq) == (False, 2)
    incident = Incident.objects.get()
    assert incident.severity == "SEV1"
    assert "seq 2" in incident.title
