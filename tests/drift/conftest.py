from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command

from opsportal.controls.models import Environment
from tests.controls.factories import EnvironmentFactory
from tests.drift.servers import NTPResponder, TimeHTTPServer


@pytest.fixture
def library(db: None) -> None:
    """The shipped procedure library (the clock-drift playbook)."""
    call_command("load_procedures", verbosity=0)


@pytest.fixture
def env(db: None) -> Environment:
    return EnvironmentFactory(slug="paper")


@pytest.fixture
def live_env(db: None) -> Environment:
    env = EnvironmentFactory(slug="valr-live")
    # Test set-up of a state only: the four-eyes path to LIVE is controls' test
    # (tests/controls/test_live_transition.py); update() bypasses the FSM field.
    Environment.objects.filter(pk=env.pk).update(mode=Environment.Mode.LIVE)
    env.refresh_from_db()
    return env


@pytest.fixture
def time_server() -> Iterator[TimeHTTPServer]:
    with TimeHTTPServer() as server:
        yield server


@pytest.fixture
def ntp_server() -> Iterator[NTPResponder]:
    with NTPResponder() as server:
        yield server
