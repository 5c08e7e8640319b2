"""One answer to "when was the kill switch last seen to work" (issue 14, item 17):
the environment page and the go-live precondition read the same
`opsportal.controls.verification.kill_switch_verification`."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from drills.models import DrillRun
from drills.selectors import kill_switch_drill_precondition
from drills.services.recording import drill_step_record
from drills.services.runs import drill_run_complete
from opsportal.controls.models import Environment
from opsportal.controls.verification import kill_switch_verification
from tests.drills.factories import plan, publish, start

pytestmark = pytest.mark.django_db

VERIFIED = re.compile(r"Kill switch verified</dt>\s*<dd[^>]*>(.*?)</dd>", re.S)


def completed_drill(paper, users):
    run = start(plan(version=publish(), environment=paper, lead=users["operator1"]))
    for result in run.step_results.all():
        drill_step_record(
            result_id=result.pk, actor=users["operator1"], outcome="pass", measured_seconds="1"
        )
    return drill_run_complete(run_id=run.pk, actor=users["operator1"])


def shown_on_page(client_for):
    html = client_for("operator1").get("/environments/paper/").content.decode()
    return VERIFIED.search(html).group(1)


def test_environment_page_shows_the_drill_the_go_live_precondition_passes_on(
    paper, users, client_for
):
    run = completed_drill(paper, users)

    shown = shown_on_page(client_for)

    assert kill_switch_drill_precondition(paper).passed
    assert "never" not in shown and f"Drill #{run.pk}" in shown


def test_recorded_verification_newer_than_any_drill_passes_the_precondition(paper, users):
    completed_drill(paper, users)
    old = timezone.now() - dt.timedelta(days=3)
    # A drill trigger and recovery recorded by the kill switch today (the full
    # four-eyes path is tested in tests/controls); the drill run three days ago.
    Environment.objects.filter(pk=paper.pk).update(last_verified_at=timezone.now())
    DrillRun.objects.update(completed_at=old)
    paper.refresh_from_db()

    assert kill_switch_drill_precondition(paper).passed
    assert kill_switch_verification(paper).at == paper.last_verified_at


def test_environment_page_says_never_when_nothing_verified_it(paper, client_for):
    shown = shown_on_page(client_for)

    assert shown.strip() == "never"
    assert not kill_switch_drill_precondition(Environment.objects.get(slug="paper")).passed


def test_environment_api_reports_the_drill_the_page_shows(paper, users, client_for):
    run = completed_drill(paper, users)

    body = client_for("operator1").get("/api/v1/environments/paper/").json()

    assert body["last_verified_at"] is not None
    assert f"Drill #{run.pk}" in body["last_verified_detail"]


def test_environment_api_reports_never_as_null(paper, client_for):
    body = client_for("operator1").get("/api/v1/environments/paper/").json()

    assert (body["last_verified_at"], body["last_verified_detail"]) == (None, "")
