"""Wording helpers shared by every app: numbers people read at 3 a.m."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """A duration in seconds as people say it: 45 → "45 s", 300 → "5 min",
    86400 → "24 h", 5400 → "1 h 30 min", 200000 → "2 d 7 h". Up to two units,
    hours up to 48 (a "24 h" rule reads as 24 h, not "1 day, 0:00:00"); whole
    units only, rounded down; negative values read as "0 s"."""
    total = max(int(seconds), 0)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
