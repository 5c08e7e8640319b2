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

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class EscalationLevel:
    """Who is told, again, when an incident is still unacknowledged `after_seconds`
    after detection (levels of a severity have increasing `after_seconds`)."""

    after_seconds: int
    roles: tuple[str, ...] = ()  # role group names, e.g. ("incident_commander",)
    users: tuple[str, ...] = ()  # usernames


@dataclass(frozen=True)
class Severity:
    code: str  # "SEV1"
    alias: str  # "P0"
    name: str  # "Critical"
    response_seconds: int  # acknowledge within this many seconds of detection
    update_cadence_seconds: int | None  # a status update at least this often; None: no cadence
    review_required: bool  # closing needs an approved post-incident review
    review_due_seconds: int | None  # review deadline after resolution (runbook "Post-Mortem")
    escalation: tuple[EscalationLevel, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.code} ({self.alias}) {self.name}"


MINUTE, HOUR = 60, 3600
SEV3_REVIEW_DUE_SECONDS = 14 * 24 * HOUR

# incident-response-playbook-sev-levels.md "Escalation Matrix": no response in 15 min
# escalates (on-call → tech lead → CTO for SEV1; executives after 1 h for SEV2). In
# the portal's roles: operators (on call) are told when it opens, incident commanders
# (tech lead) after 15 min, risk officers (executives) after 30 min (SEV1) or 1 h (SEV2).
_ESCALATION = {
    "SEV1": (
        EscalationLevel(15 * MINUTE, ("incident_commander",)),
        EscalationLevel(30 * MINUTE, ("risk_officer",)),
    ),
    "SEV2": (
        EscalationLevel(15 * MINUTE, ("incident_commander",)),
        EscalationLevel(1 * HOUR, ("risk_officer",)),
    ),
    "SEV3": (EscalationLevel(15 * MINUTE, ("operator",)),),
    "SEV4": (),
}

# The shipped default (incident-response-playbook-algo-trade.md response times).
SEVERITIES: dict[str, Severity] = {
    "SEV1": Severity(
        "SEV1", "P0", "Critical", 5 * MINUTE, 30 * MINUTE, True, 48 * HOUR, _ESCALATION["SEV1"]
    ),
    "SEV2": Severity(
        "SEV2", "P1", "High", 15 * MINUTE, 30 * MINUTE, True, 7 * 24 * HOUR, _ESCALATION["SEV2"]
    ),
    # SEV3: a review is optional, offered "within two weeks" (issue #10): a due time
    # for an offered review, never a condition for closing.
    "SEV3": Severity(
        "SEV3",
        "P2",
        "Medium",
        1 * HOUR,
        2 * HOUR,
        False,
        SEV3_REVIEW_DUE_SECONDS,
        _ESCALATION["SEV3"],
    ),
    "SEV4": Severity("SEV4", "P3", "Low", 24 * HOUR, None, False, None, _ESCALATION["SEV4"]),
}

# The alternative: incident-response-playbook-sev-levels.md's response times (SEV1
# 15 min, SEV2 1 h, SEV3 4 h, SEV4 24 h); same cadence, reviews and escalation.
ALTERNATIVE_SEVERITIES: dict[str, Severity] = {
    "SEV1": replace(SEVERITIES["SEV1"], response_seconds=15 * MINUTE),
    "SEV2": replace(SEVERITIES["SEV2"], response_seconds=1 * HOUR),
    "SEV3": replace(SEVERITIES["SEV3"], response_seconds=4 * HOUR),
    "SEV4": SEVERITIES["SEV4"],
}
DEFAULT_POLICY_LABEL = "Default (algo-trade playbook: SEV1 acknowledged within 5 min)"
ALTERNATIVE_POLICY_LABEL = "Alternative (SEV-levels playbook: SEV1 acknowledged within 15 min)"
SEVERITY_CHOICES = [(s.code, s.label) for s in SEVERITIES.values()]
SEVERITY_CODES = tuple(SEVERITIES)


ROLE_NAMES = ("operator", "incident_commander", "risk_officer", "auditor", "admin")
MAX_SECONDS = 90 * 24 * HOUR  # no deadline in a policy is further than 90 days out


def severities_to_json(severities: dict[str, Severity]) -> dict[str, Any]:
    """The JSON a SeverityPolicy stores (and the admin edits)."""
    return {
        code: {
            "alias": s.alias,
            "name": s.name,
            "response_seconds": s.response_seconds,
            "update_cadence_seconds": s.update_cadence_seconds,
            "review_required": s.review_required,
            "review_due_seconds": s.review_due_seconds,
            "escalation": [
                {"after_seconds": e.after_seconds, "roles": list(e.roles), "users": list(e.users)}
                for e in s.escalation
            ],
        }
        for code, s in severities.items()
    }


class PolicyError(ValueError):
    """A severity policy's JSON is not valid; `field` names where ("SEV1.response_seconds")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _seconds(value: Any, where: str, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SECONDS:
        raise PolicyError(where, f"a whole number of seconds from 1 to {MAX_SECONDS}")
    return value


def severities_from_json(data: Any) -> dict[str, Severity]:
    """Validate a policy's JSON and build {code: Severity}. PolicyError naming the
    field for anything missing, of the wrong type or out of range."""
    if not isinstance(data, dict) or set(data) != set(SEVERITY_CODES):
        raise PolicyError("levels", f"an object with exactly {', '.join(SEVERITY_CODES)}")
    out: dict[str, Severity] = {}
    for code in SEVERITY_CODES:
        level = data[code]
        if not isinstance(level, dict):
            raise PolicyError(code, "an object")
        for key in ("alias", "name"):
            if not isinstance(level.get(key), str) or not 0 < len(level[key]) <= 40:
                raise PolicyError(f"{code}.{key}", "text of 1 to 40 characters")
        if not isinstance(level.get("review_required"), bool):
            raise PolicyError(f"{code}.review_required", "true or false")
        escalation = level.get("escalation", [])
        if not isinstance(escalation, list) or len(escalation) > 10:
            raise PolicyError(f"{code}.escalation", "a list of at most 10 levels")
        steps: list[EscalationLevel] = []
        for i, step in enumerate(escalation, start=1):
            where = f"{code}.escalation[{i}]"
            if not isinstance(step, dict):
                raise PolicyError(where, "an object")
            after = _seconds(step.get("after_seconds"), f"{where}.after_seconds", optional=False)
            assert after is not None  # not optional above
            if steps and after <= steps[-1].after_seconds:
                raise PolicyError(f"{where}.after_seconds", "later than the level before")
            roles, users = step.get("roles", []), step.get("users", [])
            if not isinstance(roles, list) or any(r not in ROLE_NAMES for r in roles):
                raise PolicyError(f"{where}.roles", f"a list of roles from {', '.join(ROLE_NAMES)}")
            if not isinstance(users, list) or any(
                not isinstance(u, str) or not 0 < len(u) <= 150 for u in users
            ):
                raise PolicyError(f"{where}.users", "a list of usernames")
            if not roles and not users:
                raise PolicyError(where, "names at least one role or user")
            steps.append(EscalationLevel(after, tuple(roles), tuple(users)))
        response = _seconds(
            level.get("response_seconds"), f"{code}.response_seconds", optional=False
        )
        assert response is not None  # not optional above
        review_due = _seconds(
            level.get("review_due_seconds"), f"{code}.review_due_seconds", optional=True
        )
        if level["review_required"] and review_due is None:
            raise PolicyError(f"{code}.review_due_seconds", "required when a review is required")
        out[code] = Severity(
            code,
            level["alias"],
            level["name"],
            response,
            _seconds(
                level.get("update_cadence_seconds"), f"{code}.update_cadence_seconds", optional=True
            ),
            level["review_required"],
            review_due,
            tuple(steps),
        )
    return out


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
