"""The one registry of audit event types.

Each app declares its event types in its own `audit_events.py` by calling
`register(...)`; the app's `AppConfig.ready()` imports that module. `audit_record`
refuses an unregistered type, so a typo is a test failure, not a silent new type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str  # "<domain>.<verb>", e.g. "incident.acknowledged"
    label: str  # shown to auditors


_REGISTRY: dict[str, EventType] = {}


def register(*event_types: tuple[str, str]) -> None:
    """Register `(code, label)` pairs. Re-registering the same pair is a no-op; the
    same code with another label is a programming error (ValueError)."""
    for code, label in event_types:
        existing = _REGISTRY.get(code)
        if existing and existing.label != label:
            raise ValueError(f"audit event type {code!r} registered twice with different labels")
        _REGISTRY[code] = EventType(code=code, label=label)


def get(code: str) -> EventType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ValueError(f"unregistered audit event type {code!r}") from None


def all_event_types() -> list[EventType]:
    return sorted(_REGISTRY.values(), key=lambda e: e.code)


register(
    ("access.denied", "Write attempt refused (permission)"),
    ("auth.login", "Signed in"),
    ("auth.login_failed", "Sign-in failed"),
    ("auth.logout", "Signed out"),
    ("auth.locked_out", "Sign-in locked out after repeated wrong passwords"),
    ("auth.step_up_failed", "Step-up password not accepted"),
    ("auth.step_up_locked_out", "Step-up locked out after repeated wrong passwords"),
    ("user.created", "User created"),
    ("user.changed", "User changed"),
    ("user.roles_changed", "User roles changed"),
    ("user.password_changed", "User password set by an admin"),
    ("user.own_password_changed", "User changed their own password"),
)
