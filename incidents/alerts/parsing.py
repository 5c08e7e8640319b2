"""Reading Alertmanager (webhook version 4) and Grafana alerting webhook payloads.

Both post the Alertmanager shape: `{"version", "status", "alerts": [{"status",
"labels", "annotations", "startsAt", "endsAt", "fingerprint", ...}], ...}`.
`parse_payload` checks everything before anything is written and raises
PayloadError naming the field ("alerts[0].labels.alertname").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_datetime

MAX_ALERTS = 500
MAX_TEXT = 4_000
EXPECTED_VERSION = {"alertmanager": "4", "grafana": "1"}


class PayloadError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ParsedAlert:
    status: str  # "firing" | "resolved"
    name: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 200:
        raise PayloadError(where, "must be an object of at most 200 string values")
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 200 or len(item) > MAX_TEXT:
            raise PayloadError(f"{where}.{key}", f"must be text of at most {MAX_TEXT} characters")
        if "\x00" in key or "\x00" in item:
            raise PayloadError(f"{where}.{key}", "must not contain NUL")
    return dict(value)


def _time(value: Any, where: str, *, optional: bool) -> dt.datetime | None:
    if optional and (value in (None, "") or str(value).startswith("0001-01-01")):
        return None  # Alertmanager's "zero time": not ended
    parsed = parse_datetime(value) if isinstance(value, str) and len(value) < 64 else None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadError(where, "must be an RFC 3339 time with a time zone")
    return parsed


def parse_payload(data: Any, *, source: str) -> list[ParsedAlert]:
    if not isinstance(data, dict):
        raise PayloadError("body", "must be a JSON object")
    version = data.get("version")
    if str(version) != EXPECTED_VERSION[source]:
        raise PayloadError("version", f'must be "{EXPECTED_VERSION[source]}" for {source}')
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not 0 < len(alerts) <= MAX_ALERTS:
        raise PayloadError("alerts", f"must be a list of 1 to {MAX_ALERTS} alerts")
    parsed = []
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        if not isinstance(alert, dict):
            raise PayloadError(where, "must be an object")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{where}.status", 'must be "firing" or "resolved"')
        labels = _strings(alert.get("labels"), f"{where}.labels")
        name = labels.get("alertname", "")
        if not name or len(name) > 200:
            raise PayloadError(f"{where}.labels.alertname", "is required (at most 200 characters)")
        annotations = _strings(alert.get("annotations"), f"{where}.annotations")
        fingerprint = alert.get("fingerprint")
        if fingerprint is None:
            canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
            fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        if not isinstance(fingerprint, str) or not 0 < len(fingerprint) <= 200:
            raise PayloadError(f"{where}.fingerprint", "must be text of 1 to 200 characters")
        starts_at = _time(alert.get("startsAt"), f"{where}.startsAt", optional=False)
        assert starts_at is not None  # not optional above
        parsed.append(
            ParsedAlert(
                status=status,
                name=name,
                fingerprint=fingerprint,
                labels=labels,
                annotations=annotations,
                starts_at=starts_at,
                ends_at=_time(alert.get("endsAt"), f"{where}.endsAt", optional=True),
            )
        )
    return parsed
