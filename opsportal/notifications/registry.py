"""The registry of notification kinds.

An app that tells people about something registers its kinds in its
`AppConfig.ready()` (notifications sit below the apps that notify, so they cannot
be imported from here): `register_notification_kind("incident.opened", label=...)`.
`notify` refuses an unregistered kind, so a typo is a test failure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotificationKind:
    code: str  # "<domain>.<event>", e.g. "incident.opened"
    label: str  # shown on the preferences page and in the admin
    email_default: bool = False  # email on unless the person turned it off


_KINDS: dict[str, NotificationKind] = {}


def register_notification_kind(
    kind: str, *, label: str, email_default: bool = False
) -> NotificationKind:
    """Register `kind`. Re-registering with the same label is a no-op; another label
    is a programming error (ValueError). `email_default`: people get this kind by
    email unless they turn it off (urgent kinds); otherwise email is opt-in."""
    existing = _KINDS.get(kind)
    if existing is not None and existing.label != label:
        raise ValueError(f"notification kind {kind!r} registered twice with different labels")
    _KINDS[kind] = NotificationKind(code=kind, label=label, email_default=email_default)
    return _KINDS[kind]


def get_notification_kind(kind: str) -> NotificationKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unregistered notification kind {kind!r}") from None


def notification_kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)
