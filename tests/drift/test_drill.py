"""The clock-drift drill (procedure clock-drift-drill), timed."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident
from opsportal.controls.selectors import gate_decision
from opsportal.drift.models import ClockCheck, TimeSource

pytestmark = pytest.mark.django_db


def test_drill_times_skew_to_neutral_and_back_to_allow(env):
    out = io.StringIO()

    call_command("drift_drill", "--environment", "paper", stdout=out)

    text = out.getvalue()
    assert "Clock-drift drill on paper: passed" in text
    assert text.count("PASS") == 2
    assert gate_decision("paper").decision == "ALLOW"
    assert not Incident.objects.exists()  # a drill is not an outage
    assert ClockCheck.objects.filter(is_drill=True).count() == 3
    assert not TimeSource.objects.get().enabled  # its server is gone after the drill


def test_drill_refuses_a_live_environment(live_env):
    with pytest.raises(CommandError):
        call_command("drift_drill", "--environment", "valr-live")
