"""Browser tests. Their fixtures (`browser`, `new_page`, `login`) are in
tests/conftest.py so browser tests in any folder share one Chromium."""

from tests.conftest import ARTIFACTS

__all__ = ["ARTIFACTS"]
