"""Writes for drill schedules and drill runs."""
