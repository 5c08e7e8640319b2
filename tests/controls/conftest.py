"""Fixtures for the controls tests: a small procedure library of our own (the shipped
one may change) and helpers that put an environment into a given state through the
services, never by writing fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from opsportal.controls import services
from opsportal.controls.models import Environment
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish
from tests.controls.factories import EnvironmentFactory


def _spec(slug: str, kind: str, titles: list[str]) -> dict:
    data = {
        "slug": slug,
        "kind": kind,
        "title": slug.replace("-", " ").title(),
        "steps": [{"title": t, "instruction": f"Do: {t}"} for t in titles],
    }
    if kind == "incident_playbook":
        data["severity"] = "SEV1"
    return data


PRE_LIVE_ITEMS = ["Database reachable", "Exchange API key valid", "Limits configured"]
ROLLBACK_STEPS = [
    "Trigger kill switch",
    "Check open positions",
    "Close all positions",
    "Disable live trading gates",
    "Restore DRY_RUN configuration",
    "Restart in DRY_RUN",
    "Verify DRY_RUN",
    "Document rollback",
]

LIBRARY = [
    _spec("pre-live-checklist", "checklist", PRE_LIVE_ITEMS),
    _spec("rollback-to-dry-run", "rollback", ROLLBACK_STEPS),
    _spec("live-transition", "transition", ["Audit record", "Services stopped"]),
    _spec("p0-0-kill-switch-triggered", "incident_playbook", ["Verify HALT"]),
    _spec("p0-1-kill-switch-pnl-breach", "incident_playbook", ["Check P&L"]),
    _spec("p0-2-kill-switch-max-drawdown", "incident_playbook", ["Check drawdown"]),
    _spec("p0-3-unauthorized-trading", "incident_playbook", ["Revoke keys"]),
]

ALL_ATTESTED = {str(i): True for i in range(1, len(PRE_LIVE_ITEMS) + 1)}


BUILT_IN_PRECONDITIONS = {
    "mode_dry_run",
    "kill_switch_active",
    "dry_run_duration",
    "no_recent_rollback",
    "no_open_incident",
}


@pytest.fixture(autouse=True)
def only_controls_preconditions() -> Iterator[None]:
    """These tests exercise the controls preconditions; other apps' registered ones
    (the drills app's "kill switch drilled within 24 h") are tested by those apps.
    The registry is restored afterwards."""
    from opsportal.controls import preconditions

    saved = dict(preconditions._REGISTRY)
    for code in set(saved) - BUILT_IN_PRECONDITIONS:
        preconditions._REGISTRY.pop(code)
    yield
    preconditions._REGISTRY.clear()
    preconditions._REGISTRY.update(saved)


@pytest.fixture
def library(db: None) -> None:
    for data in LIBRARY:
        procedure_publish(spec=parse_procedure(data, origin="test"))


@pytest.fixture
def env(db: None) -> Environment:
    return EnvironmentFactory(slug="paper")


@pytest.fixture
def fast(settings) -> None:
    """Cooldown and durations short enough for a test to wait them out."""
    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 0
    return settings


@pytest.fixture
def kill(users) -> Callable[..., object]:
    def do(environment: Environment, *, by: str = "operator1", reason_code: str = "manual"):
        event = services.kill_switch_trigger(
            environment=environment, actor=users[by], reason_code=reason_code, note="test"
        )
        environment.refresh_from_db()
        return event

    return do


@pytest.fixture
def make_live(users, library) -> Callable[[Environment], Environment]:
    """Take `environment` LIVE through the real four-eyes path."""
    from opsportal.approvals.services import approval_grant
    from tests.factories import PASSWORD

    def do(environment: Environment) -> Environment:
        request = services.live_transition_request(
            environment=environment,
            actor=users["operator1"],
            reason="go live",
            attestations=ALL_ATTESTED,
        )
        approval_grant(
            request_id=request.pk,
            actor=users["operator2"],
            password=PASSWORD,
            payload_sha256=request.payload_sha256,
        )
        environment.refresh_from_db()
        assert environment.mode == "LIVE"
        return environment

    return do


def ago(**kwargs: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)
