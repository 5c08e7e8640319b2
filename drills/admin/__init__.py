"""drills admin: library.py (procedure library), runs.py (schedules, runs, sign-offs)."""

from drills.admin import library, runs  # noqa: F401
