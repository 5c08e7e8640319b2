"""A kill-switch drill run end to end in a real browser (issue 4, "How it is
checked"): plan, pre-drill checklist, automated trigger timing, recovery through the
risk officer's approval, completion, two-person sign-off, and the live-transition
precondition. The measured trigger-to-HALT seconds go to
test-artifacts/drill-timing.txt."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from drills.models import DrillRun
from drills.selectors import PRECONDITION_CODE, kill_switch_drill_precondition
from opsportal.controls.models import Environment, KillSwitchEvent
from opsportal.controls.preconditions import evaluate_live_preconditions
from opsportal.controls.services import gate_token_issue
from opsportal.signoffs.models import Signoff
from tests.controls.factories import EnvironmentFactory
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

SECONDS = re.compile(r"(\d+\.\d{3}) s")


@pytest.fixture
def drill_setup(users, settings):
    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 2
    call_command("load_procedures", stdout=StringIO())
    env = EnvironmentFactory(slug="paper", name="Paper trading")
    _, token = gate_token_issue(name="engine", environment=env, actor=users["admin"])
    return env, token


def engine_gate(base_url: str, token: str) -> str:
    """What an engine polling the gate endpoint sees now."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/environments/paper/gate",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())["decision"]


def msg(page, text):
    """Wait for a flash message (text or regex)."""
    page.locator("ul.messages").get_by_text(text).first.wait_for()


def step_card(page, run, position):
    result = run.step_results.get(position=position)
    return page.locator(f"#step-{result.pk}"), result


def record_step(page, run, position, *, seconds="4"):
    card, result = step_card(page, run, position)
    card.locator("summary").click()
    card.get_by_label("Outcome").select_option("pass")
    if result.step.time_target_seconds:
        card.get_by_label("Measured seconds").fill(seconds)
    card.get_by_role("button", name=f"Save step {position}").click()
    msg(page, f"Step {position} recorded: pass.")


def test_kill_switch_drill_flow(new_page, login, live_server, drill_setup, users, password):
    paper, token = drill_setup
    assert engine_gate(live_server.url, token) == "ALLOW"
    assert not kill_switch_drill_precondition(paper).passed

    # operator1 plans a kill-switch drill on paper, with operator2 observing.
    op1 = new_page(viewport={"width": 414, "height": 896})  # a phone
    login(op1, "operator1")
    op1.goto("/drills/")
    op1.get_by_role("link", name="Plan a drill").click()
    form = op1.locator("main form")  # the header has its own kill form
    form.get_by_label("Procedure").select_option(label="Kill-switch drill")
    form.get_by_label("Environment").select_option(label="paper")
    form.get_by_label("Observer").select_option(str(users["operator2"].pk))
    form.get_by_role("button", name="Plan drill").click()
    op1.wait_for_url(re.compile(r"/drills/runs/\d+/$"))
    run = DrillRun.objects.get()
    assert run.procedure_version.procedure.slug == "kill-switch-drill"

    # The drill cannot start before the pre-drill checklist is complete.
    op1.get_by_role("button", name="Start drill").click()
    op1.get_by_text("Complete the pre-drill checklist first").first.wait_for()
    ticks = op1.get_by_role("button", name=re.compile(r"^Tick: "))
    while ticks.count():
        ticks.first.click()
        msg(op1, "Checklist item ticked.")
    op1.get_by_role("button", name="Start drill").click()
    msg(op1, "Drill started.")
    assert op1.get_by_test_id("run-state").inner_text() == "In progress"

    # The automated trigger: the portal kills paper and times it to the gate's HALT.
    card, trigger = step_card(op1, run, 1)
    card.get_by_role("button", name="Run automated trigger").click()
    msg(op1, re.compile(r"gate answered HALT after"))
    card, trigger = step_card(op1, run, 1)
    shown = card.get_by_test_id("step-measured-1").inner_text()
    measured = float(SECONDS.search(shown).group(1))
    trigger.refresh_from_db()
    assert trigger.outcome == "pass"
    assert measured == pytest.approx(trigger.measured_ms / 1000, abs=0.0005)
    assert measured < 10
    paper.refresh_from_db()
    assert paper.kill_switch == Environment.KillSwitch.KILLED
    assert engine_gate(live_server.url, token) == "HALT"  # engines see it too
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=str(ARTIFACTS / "drill-trigger-step-phone.png"))
    assert KillSwitchEvent.objects.get(kind="triggered").incident_id is None  # a drill opens none

    for position in (2, 3, 4, 5):
        record_step(op1, run, position)

    # Recovery: operator1 starts it after the (shortened) cooldown...
    time.sleep(2.1)
    card, _ = step_card(op1, run, 6)
    card.get_by_role("button", name="Start recovery").click()
    msg(op1, re.compile(r"Recovery started: resume request #\d+"))
    # ...recording it before the approval is refused...
    card, _ = step_card(op1, run, 6)
    card.get_by_role("button", name="Record recovery").click()
    msg(op1, "Recovery has not completed yet")
    # ...risk approves the resume request...
    paper.refresh_from_db()
    risk = new_page()
    login(risk, "risk")
    risk.goto(f"/approvals/{paper.resume_request_id}/")
    risk.get_by_label("Your password (to approve)").fill(password)
    risk.get_by_role("button", name="Approve").click()
    risk.get_by_text("Approved. The action has been executed.").wait_for()
    # ...and operator1 records the recovery time.
    op1.reload()
    card, recovery = step_card(op1, run, 6)
    card.get_by_role("button", name="Record recovery").click()
    msg(op1, re.compile(r"Recovery recorded: \d+\.\d{3} s, pass\."))
    recovery.refresh_from_db()
    assert (recovery.outcome, recovery.automated) == ("pass", True)
    assert engine_gate(live_server.url, token) == "ALLOW"

    for position in range(7, run.step_results.count() + 1):
        record_step(op1, run, position)
    op1.get_by_role("button", name="Complete drill").click()
    msg(op1, "Drill completed.")
    assert op1.get_by_test_id("run-result").inner_text() == (
        f"Passed: all {run.step_results.count()} steps; no issues recorded"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    op1.screenshot(path=str(ARTIFACTS / "drill-run-phone.png"), full_page=True)

    # operator1 signs as drill lead; the form shows what is signed and its hash.
    op1.get_by_role("link", name="Sign off").first.click()
    run.refresh_from_db()
    from opsportal.signoffs.services import signable_sha256

    assert op1.get_by_test_id("content-sha256").inner_text() == signable_sha256(run)
    assert op1.get_by_label("Sign as").input_value() == "drill_lead"
    op1.get_by_label("Your password (confirms it is you)").fill(password)
    op1.screenshot(path=str(ARTIFACTS / "drill-sign-phone.png"), full_page=True)
    op1.get_by_role("button", name="Sign", exact=True).click()
    msg(op1, "Signed as Drill lead.")

    # operator1 has nothing left to sign: no empty form, a sentence saying why.
    op1.goto(f"/drills/runs/{run.pk}/sign")
    assert op1.get_by_test_id("why-no-signoff").inner_text() == (
        "You have signed as Drill lead; the remaining sign-off (Risk officer) needs a "
        "different person."
    )
    assert op1.get_by_label("Sign as").count() == 0
    assert Signoff.objects.filter(voided_at__isnull=True).count() == 1

    # risk signs: the run is signed off.
    risk.goto(f"/drills/runs/{run.pk}/sign")
    assert risk.get_by_label("Sign as").input_value() == "risk_officer"
    risk.get_by_label("Your password (confirms it is you)").fill(password)
    risk.get_by_role("button", name="Sign", exact=True).click()
    msg(risk, "Signed as Risk officer. The drill is signed off.")
    assert risk.get_by_test_id("run-state").inner_text() == "Signed off"
    run.refresh_from_db()
    assert run.state == "signed_off"

    # The live-transition precondition for paper now passes.
    paper.refresh_from_db()
    results = {r.code: r for r in evaluate_live_preconditions(paper, {})}
    assert results[PRECONDITION_CODE].passed, results[PRECONDITION_CODE].detail

    # The printable record shows the timings and both signatures.
    risk.goto(f"/drills/runs/{run.pk}/record")
    risk.screenshot(path=str(ARTIFACTS / "drill-record.png"), full_page=True)
    record = risk.locator(".record").inner_text()
    assert "Drill execution record" in record and "operator1" in record and "risk" in record

    ARTIFACTS.mkdir(exist_ok=True)
    line = (
        f"{timezone.now():%Y-%m-%dT%H:%M:%SZ} kill-switch-drill on paper: trigger->HALT "
        f"{measured:.3f} s (target 10 s, {trigger.measurement['polls']} gate reads); "
        f"recovery start->ALLOW {recovery.measured_ms / 1000:.3f} s\n"
    )
    with (ARTIFACTS / "drill-timing.txt").open("a") as fh:
        fh.write(line)
    print(line, end="")  # noqa: T201 - the closing note reports this number
