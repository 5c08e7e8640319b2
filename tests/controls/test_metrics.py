"""`/metrics` parsed with prometheus_client's own parser: each metric present with the
right value after a kill-switch trigger and after recovery; a fixed number of
queries; open only to the allow-list or the scrape token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from prometheus_client.parser import text_string_to_metric_families

from incidents.services import incident_open
from opsportal.approvals.services import approval_grant
from opsportal.audit.services import audit_verify_run
from opsportal.controls import services
from opsportal.drift.services import time_source_check_now
from opsportal.metrics import metrics
from opsportal.notifications.models import Delivery
from tests.drift.factories import http_source
from tests.drift.servers import TimeHTTPServer

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_kill_switch_and_gate_after_trigger_and_recovery(
    client, env, users, library, kill, fast, password
):
    before = scrape(client)
    assert value(before, "opsportal_kill_switch_active", environment="paper") == 0
    assert value(before, "opsportal_gate_decision", environment="paper", decision="ALLOW") == 1

    kill(env)
    killed = scrape(client)
    assert value(killed, "opsportal_kill_switch_active", environment="paper") == 1
    assert value(killed, "opsportal_gate_decision", environment="paper", decision="HALT") == 1
    assert value(killed, "opsportal_gate_decision", environment="paper", decision="ALLOW") == 0
    assert value(killed, "opsportal_incidents_open", severity="SEV1") == 1  # the kill's SEV1

    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")
    pending = scrape(client)
    assert value(pending, "opsportal_approvals_pending", action="kill_switch_resume") == 1

    approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    recovered = scrape(client)
    assert value(recovered, "opsportal_kill_switch_active", environment="paper") == 0
    assert value(recovered, "opsportal_gate_decision", environment="paper", decision="ALLOW") == 1
    assert ("opsportal_approvals_pending", (("action", "kill_switch_resume"),)) not in recovered


def test_sla_breaches_and_failed_notifications(client, users):
    incident_open(
        actor=users["operator1"],
        title="late",
        severity="SEV2",
        detected_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20),
    )
    Delivery.objects.create(channel="email", kind="x", to="a@b", title="t", attempts=3)
    samples = scrape(client)
    assert value(samples, "opsportal_sla_breaches_total", severity="SEV2") == 1
    assert value(samples, "opsportal_sla_breaches_total", severity="SEV1") == 0
    assert value(samples, "opsportal_notifications_failed_total", channel="email") == 3
    assert value(samples, "opsportal_notifications_failed_total", channel="webhook") == 0


def test_clock_offset_per_source_after_a_drift_check(client, env):
    with TimeHTTPServer() as server:
        source = http_source(server.url, env, name="valr-time")
        assert ("opsportal_clock_offset_ms", (("source", "valr-time"),)) not in scrape(client)
        server.skew_ms = 1200  # the exchange's clock is 1.2 s ahead of ours
        check = time_source_check_now(source=source, actor=None)
        server.garbage = "not a time"  # an unusable answer keeps the last good offset
        time_source_check_now(source=source, actor=None)

    offset = value(scrape(client), "opsportal_clock_offset_ms", source="valr-time")
    assert offset == pytest.approx(check.offset_ms)
    assert offset == pytest.approx(1200, abs=50)


def test_audit_last_verified_after_a_verification(client, users):
    assert value(scrape(client), "opsportal_audit_last_verified_timestamp_seconds") == 0
    verification = audit_verify_run(actor=users["auditor"])
    assert verification.ok

    samples = scrape(client)
    assert value(samples, "opsportal_audit_last_verified_timestamp_seconds") == pytest.approx(
        verification.finished_at.timestamp()
    )


def test_request_latency_is_recorded(client, users):
    client.get("/health")
    samples = scrape(client)
    assert any(
        name == "opsportal_request_duration_seconds_count" and dict(labels).get("route") == "health"
        for (name, labels) in samples
    )


def test_scrape_costs_a_fixed_number_of_queries(users, env, django_assert_num_queries):
    # The view itself, called directly: the test client's request_started signal
    # resets the query log and would hide the count.
    for n in range(5):
        incident_open(actor=users["operator1"], title=f"i{n}", severity=f"SEV{n % 4 + 1}")
    Delivery.objects.create(channel="email", kind="x", to="a@b", title="t", attempts=1)
    with TimeHTTPServer() as server:  # a good check on each of two sources
        for name in ("a-time", "b-time"):
            time_source_check_now(source=http_source(server.url, env, name=name), actor=None)
    audit_verify_run(actor=None)
    audit_verify_run(actor=None)
    with django_assert_num_queries(7):
        response = metrics(RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1"))
    assert response.status_code == 200


def test_other_addresses_are_refused_unless_they_bring_the_token(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    ok = client.get(
        "/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789"
    )
    assert ok.status_code == 200
