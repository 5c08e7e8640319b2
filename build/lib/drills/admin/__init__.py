"""drills admin: schedules and runs (runs.py). The procedure library's admin is in
`opsportal.library.admin`, sign-offs' in `opsportal.signoffs.admin`."""

from drills.admin import runs  # noqa: F401
