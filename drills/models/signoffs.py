"""Sign-offs: attestations on the exact content of a record (reusable by any app)."""
