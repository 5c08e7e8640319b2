"""Real concurrent sessions against PostgreSQL."""

import threading

import pytest
from django.db import connection

from incidents import services
from incidents.models import Incident

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_incident_open_concurrently_gives_unique_consecutive_references(users):
    operator = users["operator1"]

    results, errors = run_in_threads(
        12,
        lambda: services.incident_open(actor=operator, title="Spike", severity="SEV3").reference,
    )

    assert errors == []
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in results)
    assert numbers == list(range(1, 13))
    assert Incident.objects.count() == 12


def test_incident_acknowledge_concurrently_records_one_acknowledgement(users):
    incident = services.incident_open(actor=users["operator1"], title="x", severity="SEV2")
    operators = [users["operator1"], users["operator2"], users["commander"]] * 2

    results, errors = run_in_threads(
        len(operators),
        lambda: (
            services.incident_acknowledge(
                actor=operators.pop(), incident_id=incident.pk
            ).acknowledged_by_id
        ),
    )

    assert errors == []
    assert len(set(results)) == 1
    assert incident.timeline.filter(kind="transition").count() == 2
