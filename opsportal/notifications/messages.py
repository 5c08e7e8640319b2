"""Small helpers the apps' message builders share."""

from __future__ import annotations

import datetime as dt


def utc_text(at: dt.datetime | None) -> str:
    """ "2026-12-03 10:46:14 UTC" ("—" for None)."""
    if at is None:
        return "—"
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
