"""Drill schedules and drill runs (the execution record)."""
