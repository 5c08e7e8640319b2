"""drills services: library.py (procedure library, checklists), runs.py (schedules,
drill runs), signoffs.py (sign-offs). Import from the submodule that owns a service."""
