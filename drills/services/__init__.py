"""drills services: runs.py (drill runs), schedules.py (schedules), automation.py
(timings measured by the portal). Import from the submodule that owns a service."""
