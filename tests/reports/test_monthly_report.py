"""The monthly operations and compliance report: the figures in its PDF, computed
independently from the seeded data, and a query count that does not grow with rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.reports.sections import monthly
from opsportal.reports.services import report_request
from opsportal.reports.storage import absolute
from tests.incidents.factories import IncidentFactory
from tests.incidents.reviews.factories import ActionItemFactory, ReviewFactory
from tests.reports.conftest import pdf_text
from tests.reports.seed import seed_monthly, seed_oversight

pytestmark = pytest.mark.django_db(transaction=True)


def _params(seed) -> dict:
    return {"from": seed.start.isoformat(), "to": seed.end.isoformat()}


def test_the_monthly_pdf_states_incidents_breaches_mtta_and_drills_per_severity(users):
    seed = seed_monthly(users)

    report = report_request(kind="monthly", parameters=_params(seed), actor=users["risk"])

    text = pdf_text(absolute(report.files.get(format="pdf").path).read_bytes())
    assert (
        f"{sum(seed.counts.values())} incidents detected; {sum(seed.breaches.values())} breached"
        in text
    )
    for code, alias in (("SEV1", "P0"), ("SEV2", "P1"), ("SEV3", "P2")):
        row = f"{code} ({alias}) {seed.counts[code]} {seed.breaches[code]}"
        assert row in text, row
        assert f"{seed.mtta_median_min[code]} min" in text.split(row, 1)[1][:80], code
    assert (
        f"Drills due in the period: {seed.drills_due}; done: {seed.drills_done} of those due"
        in text
    )
    assert "Not available" not in text and "not recorded by the portal yet" not in text
    assert "The audit chain has never been verified." in text


def test_the_monthly_pdf_states_reviews_action_items_drift_and_the_audit_chain(users):
    seed = seed_monthly(users)
    oversight = seed_oversight(users)

    report = report_request(kind="monthly", parameters=_params(seed), actor=users["risk"])

    text = pdf_text(absolute(report.files.get(format="pdf").path).read_bytes())
    o = oversight
    assert (
        f"Reviews due in the period: {o.reviews_due}; approved on time: {o.reviews_on_time}; "
        f"overdue: {o.reviews_overdue}." in text
    )
    assert f"Reviews approved in the period: {o.reviews_done};" in text
    assert f"Action items created in the period: {o.items_created}; closed: {o.items_closed};" in (
        text
    )
    assert f": {o.items_open}; of those overdue: {o.items_overdue}." in text
    assert f"Clock breaches in the period: {sum(o.breaches.values())}." in text
    for name, worst in o.worst.items():
        row = text.split(name, 1)[1][:60]
        assert worst in row, (name, row)
        assert o.neutral[name] in text.split(name, 1)[1][:100], name
    assert (
        f"Findings opened in the period: {o.findings_opened}; resolved: {o.findings_resolved}."
        in text
    )
    assert "chain intact, finished" in text and f"{o.verified_events} events checked" in text
    assert "Verifications in the period: 2; failed: 1." in text
    html = absolute(report.files.get(format="html").path).read_text()
    assert 'alt="Clock offset over the period' in html


def test_the_oversight_sections_take_the_same_number_of_queries_for_more_rows(users):
    seed = seed_monthly(users)
    seed_oversight(users)
    params = _params(seed)
    period = monthly.period_of(params)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            monthly.reviews_section(period, timezone.now())
            monthly.drift_section(period, timezone.now())
            monthly.audit_chain_section(period)
        return len(queries)

    few = count()
    review = ReviewFactory(created_at=timezone.now() - timedelta(days=2))
    ActionItemFactory.create_batch(5, review=review, owner=users["operator1"])
    source = TimeSource.objects.create(name="more", kind="ntp", ntp_host="127.0.0.1")
    for hours in range(1, 30):
        ClockCheck.objects.create(
            source=source,
            checked_at=timezone.now() - timedelta(hours=hours),
            status="healthy",
            offset_ms=float(hours),
        )

    assert count() == few


def test_the_monthly_figures_take_the_same_number_of_queries_for_more_rows(users):
    seed = seed_monthly(users)
    params = _params(seed)

    with CaptureQueriesContext(connection) as few:
        monthly.build(params)
    IncidentFactory.create_batch(30, severity="SEV3")
    seed_oversight(users)
    with CaptureQueriesContext(connection) as many:
        monthly.build(params)

    assert len(many) == len(few)
