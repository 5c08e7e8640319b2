"""Durations as people read them (opsportal.core.formatting)."""

import pytest

from opsportal.core.formatting import human_duration


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (-5, "0 s"),
        (45, "45 s"),
        (300, "5 min"),
        (3599, "59 min"),
        (5400, "1 h 30 min"),
        (86400, "24 h"),
        (47 * 3600 + 59 * 60, "47 h 59 min"),
        (200000, "2 d 7 h"),
        (3 * 86400, "3 d"),
    ],
)
def test_human_duration(seconds, words):
    assert human_duration(seconds) == words
