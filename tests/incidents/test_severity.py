import pytest

from incidents.severity import SEVERITIES, triage_suggest


@pytest.mark.parametrize(
    ("answers", "severity", "halt"),
    [
        ({"money_at_risk": True}, "SEV1", True),
        ({"money_at_risk": True, "degraded": True}, "SEV1", True),
        ({"service_down": True, "core_service": True}, "SEV1", False),
        ({"service_down": True}, "SEV2", False),
        ({"service_down": True, "degraded": True}, "SEV2", False),
        ({"degraded": True}, "SEV3", False),
        ({"core_service": True}, "SEV4", False),
        ({}, "SEV4", False),
    ],
)
def test_triage_suggest_follows_the_runbook_decision_tree(answers, severity, halt):
    args = {"money_at_risk": False, "service_down": False, "core_service": False, "degraded": False}

    suggestion = triage_suggest(**{**args, **answers})

    assert (suggestion.severity, suggestion.halt_trading) == (severity, halt)
    assert suggestion.reason


def test_severities_carry_the_runbook_aliases_and_slas():
    table = {code: (s.alias, s.response_seconds) for code, s in SEVERITIES.items()}

    assert table == {
        "SEV1": ("P0", 300),
        "SEV2": ("P1", 900),
        "SEV3": ("P2", 3600),
        "SEV4": ("P3", 86400),
    }
