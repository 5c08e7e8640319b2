"""Pages still work under the Content-Security-Policy (issue 14, item 7): Chromium
reports no CSP violation and no script error on the pages people use, the API docs
render from our own static files, and the scripts moved out of the templates run."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from drills.models import DrillRun
from incidents.models import Incident
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(transactional_db, settings):
    settings.OPSPORTAL_DEMO_PASSWORD = PASSWORD
    call_command("load_procedures", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)


def visit_all(page, paths: list[str]) -> list[str]:
    """Open each path; what went wrong on the way: CSP violations and other console
    errors, uncaught script errors, and failed loads of the page's resources (but the
    missing /favicon.ico, issue 14 item 19)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # A failed load also logs a console error; the response names which one.
    return [e for e in errors if not e.startswith("Failed to load resource")]


def test_people_pages_raise_no_csp_violation(demo, new_page, login):
    incident = Incident.objects.order_by("pk").first()
    run = DrillRun.objects.order_by("pk").first()
    page = new_page()
    login(page, "commander")

    errors = visit_all(
        page,
        [
            "/",
            f"/incidents/{incident.pk}/",
            "/incidents/new/",
            "/environments/valr-live/",
            f"/drills/runs/{run.pk}/",
            "/approvals/",
        ],
    )

    assert errors == []


def test_admin_and_api_docs_raise_no_csp_violation(demo, new_page, login):
    page = new_page()
    login(page, "admin")

    errors = visit_all(page, ["/admin/", "/admin/accounts/user/", "/api/docs/"])

    assert errors == []
    assert page.locator(".swagger-ui .information-container").is_visible()


def test_triage_script_still_suggests_a_severity(demo, new_page, login):
    page = new_page()
    login(page, "operator1")
    page.goto("/incidents/new/")

    page.locator("#id_money_at_risk").check()

    assert page.locator("#id_severity").input_value() == "SEV1"
