"""Admin for drill schedules, runs and sign-offs."""
