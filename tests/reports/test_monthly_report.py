"""The monthly operations and compliance report: the figures in its PDF, computed
independently from the seeded data, and a query count that does not grow with rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsportal.reports.sections import monthly
from opsportal.reports.services import report_request
from opsportal.reports.storage import absolute
from tests.incidents.factories import IncidentFactory
from tests.reports.conftest import pdf_text
from tests.reports.seed import seed_monthly

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
    assert "not recorded by the portal yet (issue 10)" in text  # reviews, drift, audit chain


def test_the_monthly_figures_take_the_same_number_of_queries_for_more_rows(users):
    seed = seed_monthly(users)
    params = _params(seed)

    with CaptureQueriesContext(connection) as few:
        monthly.build(params)
    IncidentFactory.create_batch(30, severity="SEV3")
    with CaptureQueriesContext(connection) as many:
        monthly.build(params)

    assert len(many) == len(few)
