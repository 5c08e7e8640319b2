"""Configuration drift against an approved baseline (issue 11)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from incidents.models import Incident
from opsportal.approvals.services import approval_grant
from opsportal.controls.models import Environment
from opsportal.core.errors import DomainError
from opsportal.drift.config import (
    config_baseline_propose,
    config_check_run,
    config_precondition,
    config_target_create,
)
from opsportal.drift.models import ConfigCheck, ConfigFinding, ConfigTarget
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SECRET = "hunter2-do-not-store"
BASE = f"""
[risk]
max_position = 10.0
max_drawdown_pct = 5
[exchange]
api_secret = "{SECRET}"
venue = "valr"
"""


def write(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "engine.toml"
    write(path, BASE)
    return path


@pytest.fixture
def target(env: Environment, config_file) -> ConfigTarget:
    return config_target_create(actor=None, environment=env, location=str(config_file), fmt="toml")


def approve_baseline(env, users, reason="initial baseline"):
    request = config_baseline_propose(environment=env, actor=users["operator1"], reason=reason)
    return approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=PASSWORD,
        payload_sha256=request.payload_sha256,
    )


def test_a_baseline_change_without_a_second_person_is_refused(env, users, target):
    request = config_baseline_propose(environment=env, actor=users["operator1"], reason="mine")

    with pytest.raises(DomainError):
        approval_grant(
            request_id=request.pk,
            actor=users["operator1"],
            password=PASSWORD,
            payload_sha256=request.payload_sha256,
        )

    target.refresh_from_db()
    assert target.baseline is None


def test_an_approved_baseline_is_set_and_a_clean_check_matches(env, users, target):
    assert approve_baseline(env, users).status == "executed"

    assert config_check_run(target_id=target.pk).status == "match"
    assert config_precondition(env).passed


def test_number_spelling_and_key_order_are_not_drift(env, users, target, config_file):
    approve_baseline(env, users)
    write(
        config_file,
        f'[exchange]\nvenue = "valr"\napi_secret = "{SECRET}"\n'
        "[risk]\nmax_drawdown_pct = 5.0\nmax_position = 10\n",
    )

    assert config_check_run(target_id=target.pk).status == "match"


def test_a_changed_value_opens_one_finding_and_one_incident(env, users, target, config_file):
    approve_baseline(env, users)
    write(config_file, BASE.replace("max_position = 10.0", "max_position = 50"))

    check = config_check_run(target_id=target.pk)
    config_check_run(target_id=target.pk)  # still drifted: no second finding or incident

    assert check.status == "drift"
    finding = ConfigFinding.objects.get()
    assert finding.changes == [
        {"path": "risk.max_position", "change": "changed", "old": "10", "new": "50"}
    ]
    incident = Incident.objects.get()
    assert (incident.severity, incident.environment_id) == ("SEV3", env.pk)


def test_preconditions_fail_while_drift_is_open_and_pass_after(env, users, target, config_file):
    approve_baseline(env, users)
    write(config_file, BASE.replace('venue = "valr"', 'venue = "binance"'))
    config_check_run(target_id=target.pk)
    assert not config_precondition(env).passed

    write(config_file, BASE)
    config_check_run(target_id=target.pk)

    assert config_precondition(env).passed
    assert ConfigFinding.objects.get().resolved_at is not None
    assert Incident.objects.get().timeline.filter(body__contains="matches its approved").exists()


def test_a_secret_looking_value_is_never_stored_in_clear(env, users, target, config_file):
    approve_baseline(env, users)
    write(config_file, BASE.replace(SECRET, SECRET + "-rotated"))
    check = config_check_run(target_id=target.pk)

    assert check.status == "drift"
    finding = ConfigFinding.objects.get()
    assert finding.changes[0]["path"] == "exchange.api_secret"
    assert finding.changes[0]["new"].startswith("sha256:")
    dump = io.StringIO()
    call_command("dumpdata", "drift", "approvals", "incidents", "audit", stdout=dump)
    assert SECRET not in dump.getvalue()


def test_running_configuration_read_over_http(env, users, time_server):
    time_server.garbage = '{"risk": {"max_position": 10}}'
    target = config_target_create(actor=None, environment=env, location=time_server.url, fmt="json")
    approve_baseline(env, users)
    time_server.garbage = '{"risk": {"max_position": 11}}'

    assert config_check_run(target_id=target.pk).status == "drift"


def test_an_unreadable_configuration_is_recorded_and_fails_the_precondition(env, tmp_path):
    target = config_target_create(
        actor=None, environment=env, location=str(tmp_path / "missing.toml"), fmt="toml"
    )

    assert config_check_run(target_id=target.pk).status == ConfigCheck.Status.UNREADABLE
    assert not config_precondition(env).passed


def test_drift_page_shows_findings_path_by_path_and_operators_propose(
    client_for, env, users, target, config_file
):
    approve_baseline(env, users)
    write(config_file, BASE.replace("max_position = 10.0", "max_position = 50"))
    config_check_run(target_id=target.pk)
    operator = client_for("operator1")

    html = operator.get("/drift/").content.decode()
    response = operator.post(f"/drift/config/{env.slug}/propose/", {"reason": "new limits"})

    assert "<code>risk.max_position</code> changed" in html
    assert SECRET not in html
    assert response.status_code == 302 and "/approvals/" in response["Location"]
    assert (
        client_for("auditor")
        .post(f"/drift/config/{env.slug}/propose/", {"reason": "x"})
        .status_code
        == 403
    )
