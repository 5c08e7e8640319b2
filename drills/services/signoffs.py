"""Writes for sign-offs (any app may call these)."""
