"""A real Celery worker for the benchmarks, started as the README starts one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def celery_worker(*options: str) -> subprocess.Popen:
    """`celery -A opsportal worker` in a child process, in this process's environment
    (its DATABASE_URL and REDIS_URL), quiet, plus `options` (e.g. "--pool=solo")."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsportal",
            "worker",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            *options,
        ],  # fmt: skip
        cwd=ROOT,
        env=os.environ.copy(),
    )
