"""Benchmarks (scripts, not tests). See docs/BENCHMARKS.md."""
