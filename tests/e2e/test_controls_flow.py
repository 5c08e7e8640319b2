"""The controls flow in a real browser: four-eyes go-live, rollback, the header kill
button, and recovery completed by a risk officer after the (shortened) cooldown."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from opsportal.controls import preconditions, services
from opsportal.controls.models import Environment
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish
from tests.controls.conftest import BUILT_IN_PRECONDITIONS, LIBRARY, PRE_LIVE_ITEMS
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def controls_setup(users, settings):
    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 2
    for data in LIBRARY:
        procedure_publish(spec=parse_procedure(data, origin="test"))
    env = EnvironmentFactory(slug="paper", name="Paper trading")
    _, token = services.gate_token_issue(name="engine", environment=env, actor=users["admin"])
    # The drills app's "kill switch drilled within 24 h" check is exercised by its own
    # tests; this flow is about the controls and the four-eyes path.
    saved = dict(preconditions._REGISTRY)
    for code in set(saved) - BUILT_IN_PRECONDITIONS:
        preconditions._REGISTRY.pop(code)
    yield env, token
    preconditions._REGISTRY.clear()
    preconditions._REGISTRY.update(saved)


def read_gate(base_url: str, token: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/v1/environments/paper/gate",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def test_controls_flow(new_page, login, live_server, controls_setup, password):
    env, token = controls_setup
    assert read_gate(live_server.url, token)["decision"] == "ALLOW"

    # operator1 requests the live transition, attesting the pre-live checklist.
    op1 = new_page()
    login(op1, "operator1")
    op1.goto("/environments/paper/")
    op1.get_by_text("Request LIVE…").click()
    live_form = op1.locator("form[action$='/go-live/']")
    for position, title in enumerate(PRE_LIVE_ITEMS, start=1):
        live_form.get_by_label(f"{position}. {title}").check()
    live_form.get_by_label("Reason").fill("24 h of clean DRY_RUN")
    live_form.get_by_role("button", name="Confirm: request LIVE").click()
    op1.wait_for_url("**/approvals/*/")
    request_url = op1.url
    # ...and cannot approve it.
    assert op1.get_by_text("You cannot approve your own request").is_visible()
    assert op1.get_by_role("button", name="Approve").count() == 0

    # operator2 approves with a password: the environment is LIVE.
    op2 = new_page()
    login(op2, "operator2")
    op2.goto(request_url)
    op2.get_by_label("Your password (to approve)").fill(password)
    op2.get_by_role("button", name="Approve").click()
    assert op2.get_by_text("Approved. The action has been executed.").is_visible()
    op2.goto("/environments/paper/")
    assert op2.get_by_test_id("mode").inner_text() == "LIVE"
    assert read_gate(live_server.url, token)["mode"] == "LIVE"

    # operator1 rolls back, with confirmation.
    op1.goto("/environments/paper/")
    op1.get_by_text("Roll back to DRY_RUN…").click()
    rollback = op1.locator("form[action$='/rollback/']")
    rollback.get_by_label("Reason").fill("slippage above limit")
    rollback.get_by_role("button", name="Confirm rollback").click()
    assert op1.get_by_test_id("mode").inner_text() == "DRY_RUN"
    assert op1.get_by_text("rolled back to DRY_RUN").is_visible()

    # operator2 presses the header kill button, confirms: the gate says HALT.
    op2.goto("/incidents/")
    header = op2.locator("header")
    header.locator("summary", has_text="Kill switch").click()
    header.get_by_label("Environment").select_option("paper")
    header.get_by_label("Reason").select_option("emergency_l1")
    header.get_by_label("Note").fill("fills look wrong")
    header.get_by_role("button", name="Confirm kill").click()
    op2.wait_for_url("**/environments/paper/")
    assert op2.get_by_test_id("kill-switch").inner_text() == "KILLED"
    gate = read_gate(live_server.url, token)
    assert (gate["decision"], gate["reason_code"]) == ("HALT", "HALT_KILL_SWITCH")

    # After the (shortened) cooldown operator1 starts recovery; risk completes it.
    time.sleep(2.1)
    op1.goto("/environments/paper/")
    op1.get_by_text("Start recovery…").click()
    recover = op1.locator("form[action$='/recover/']")
    recover.get_by_label("Reason").fill("root cause fixed")
    recover.get_by_role("button", name="Confirm: start recovery").click()
    assert op1.get_by_test_id("kill-switch").inner_text() == "RECOVERING"
    assert read_gate(live_server.url, token)["decision"] == "HALT"
    env.refresh_from_db()

    risk = new_page()
    login(risk, "risk")
    risk.goto(f"/approvals/{env.resume_request_id}/")
    risk.get_by_label("Your password (to approve)").fill(password)
    risk.get_by_role("button", name="Approve").click()
    assert risk.get_by_text("Approved. The action has been executed.").is_visible()
    env.refresh_from_db()
    assert env.kill_switch == Environment.KillSwitch.ACTIVE
    assert read_gate(live_server.url, token)["decision"] == "ALLOW"


def test_header_kill_button_is_usable_on_a_phone(new_page, login, controls_setup):
    page = new_page(viewport={"width": 390, "height": 844})
    login(page, "operator1")

    page.locator("header summary", has_text="Kill switch").click()
    page.locator("header").get_by_role("button", name="Confirm kill").click()

    page.wait_for_url("**/environments/paper/")
    assert page.get_by_test_id("kill-switch").inner_text() == "KILLED"
