"""Drift pages, API and commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.drift.services import time_source_check_now
from tests.drift.factories import http_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(env, time_server):
    return http_source(time_server.url, env)


def test_drift_page_shows_each_source_with_status_offset_and_chart(client_for, source):
    time_source_check_now(source=source, actor=None)

    html = client_for("auditor").get("/drift/").content.decode()

    assert source.name in html
    assert "drift-healthy" in html
    assert "<svg" in html and "<polyline" in html


def test_source_page_lists_checks_and_operators_may_check_now(client_for, source):
    operator = client_for("operator1")

    response = operator.post(f"/drift/sources/{source.pk}/check/", follow=True)

    assert response.status_code == 200
    assert ClockCheck.objects.filter(source=source).count() == 1
    assert "healthy" in response.content.decode()


def test_auditor_cannot_check_now(client_for, source):
    assert client_for("auditor").post(f"/drift/sources/{source.pk}/check/").status_code == 403
    assert not ClockCheck.objects.exists()


def test_header_and_dashboard_show_neutral_as_clearly_as_halt(client_for, source, time_server):
    time_server.skew_ms = 1500
    time_source_check_now(source=source, actor=None)

    html = client_for("operator1").get("/").content.decode()

    assert 'class="gate gate-neutral"' in html
    assert 'data-testid="dash-gate-paper">NEUTRAL' in html
    assert "NEUTRAL_CLOCK_DRIFT" in html


def test_api_sources_with_latest_check_and_history(client_for, source):
    api = client_for("operator1")
    created = api.post(f"/api/v1/drift/sources/{source.pk}/check")
    assert created.status_code == 201

    listed = api.get("/api/v1/drift/sources/").json()
    history = api.get(f"/api/v1/drift/sources/{source.pk}/checks").json()

    assert listed[0]["latest_check"]["id"] == created.json()["id"]
    assert listed[0]["status"] == "healthy"
    assert [c["id"] for c in history["results"]] == [created.json()["id"]]


def test_api_check_now_needs_the_permission_and_a_real_source(client_for, source):
    assert client_for("auditor").post(f"/api/v1/drift/sources/{source.pk}/check").status_code == 403
    missing = client_for("operator1").post("/api/v1/drift/sources/99999/check")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_source"


def test_api_findings_list(client_for):
    assert client_for("auditor").get("/api/v1/drift/findings/").json() == []


def test_commands_add_a_source_and_check_it(env, time_server):
    out = io.StringIO()
    call_command(
        "drift_source_add",
        "--name",
        "valr-time",
        "--url",
        time_server.url,
        "--json-field",
        "epochTime",
        "--environment",
        "paper",
        stdout=out,
    )
    time_server.skew_ms = 1200

    call_command("drift_check", "--source", "valr-time", stdout=out)

    assert TimeSource.objects.get().name == "valr-time"
    assert "valr-time: breach offset +1" in out.getvalue()
    assert " ± " in out.getvalue()


def test_drift_check_all_exits_zero_on_an_unreachable_source(env):
    http_source("http://127.0.0.1:9/time", env, timeout_ms=200)
    out = io.StringIO()

    call_command("drift_check", "--all", stdout=out)

    assert "unreachable" in out.getvalue()


def test_drift_check_unknown_source_fails():
    with pytest.raises(CommandError):
        call_command("drift_check", "--source", "nope")


def test_ntp_source_from_the_command_line(env, ntp_server):
    out = io.StringIO()
    call_command(
        "drift_source_add",
        "--name",
        "ntp-local",
        "--ntp",
        f"127.0.0.1:{ntp_server.port}",
        "--environment",
        "paper",
        stdout=out,
    )
    call_command("drift_check", "--source", "ntp-local", stdout=out)

    assert "ntp-local: healthy offset" in out.getvalue()
