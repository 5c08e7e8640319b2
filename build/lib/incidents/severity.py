"""Severity levels, their response-time SLA and status-update cadence, and the
triage decision tree.

Sources: incident-response-playbook-algo-trade.md "Incident Severity Levels"
(P0..P3 with response times 5 min / 15 min / 1 h / 24 h, updates every 30 min for
P0) and incident-response-playbook-sev-levels.md "Triage Decision Tree". We store
SEV1..SEV4 and show the P0..P3 alias next to it (SEV1 = P0).

Update cadence: the runbooks require an update every 30 minutes for SEV1 and SEV2.
For SEV3 we ask for one every 2 hours (a degraded system during trading hours
should not go half a day without news); SEV4 has no cadence, its resolution
notice is enough.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Severity:
    code: str  # "SEV1"
    alias: str  # "P0"
    name: str  # "Critical"
    response_seconds: int  # acknowledge within this many seconds of detection
    update_cadence_seconds: int | None  # a status update at least this often; None: no cadence
    review_required: bool  # closing needs an approved post-incident review
    review_due_seconds: int | None  # review deadline after resolution (runbook "Post-Mortem")

    @property
    def label(self) -> str:
        return f"{self.code} ({self.alias}) {self.name}"


MINUTE, HOUR = 60, 3600

SEVERITIES: dict[str, Severity] = {
    "SEV1": Severity("SEV1", "P0", "Critical", 5 * MINUTE, 30 * MINUTE, True, 48 * HOUR),
    "SEV2": Severity("SEV2", "P1", "High", 15 * MINUTE, 30 * MINUTE, True, 7 * 24 * HOUR),
    "SEV3": Severity("SEV3", "P2", "Medium", 1 * HOUR, 2 * HOUR, False, None),
    "SEV4": Severity("SEV4", "P3", "Low", 24 * HOUR, None, False, None),
}
SEVERITY_CHOICES = [(s.code, s.label) for s in SEVERITIES.values()]


def severity(code: str) -> Severity:
    """The Severity for "SEV1".."SEV4" (KeyError for anything else)."""
    return SEVERITIES[code]


@dataclass(frozen=True)
class TriageSuggestion:
    severity: str
    reason: str
    halt_trading: bool  # the runbook's "activate the kill switch" branch


def triage_suggest(
    *,
    money_at_risk: bool,
    service_down: bool,
    core_service: bool,
    degraded: bool,
) -> TriageSuggestion:
    """Walk the runbooks' triage decision tree and suggest a severity.

    Args:
        money_at_risk: trading is actively losing money, or money is at risk
            (unauthorized trading, runaway orders) -> SEV1 and halt trading.
        service_down: a service is completely down (or major functionality broken)
            -> SEV2, or SEV1 when `core_service`.
        core_service: the service that is down is a core trading service (order
            routing, execution, risk checks, market data for live strategies).
        degraded: performance is degraded -> SEV3.
    Otherwise SEV4. The person opening the incident may override the suggestion.
    """
    if money_at_risk:
        return TriageSuggestion(
            "SEV1", "Trading is losing money or money is at risk: halt trading.", True
        )
    if service_down and core_service:
        return TriageSuggestion("SEV1", "A core trading service is completely down.", False)
    if service_down:
        return TriageSuggestion("SEV2", "A service is completely down.", False)
    if degraded:
        return TriageSuggestion("SEV3", "Performance is degraded.", False)
    return TriageSuggestion("SEV4", "No trading impact: a minor or cosmetic issue.", False)
