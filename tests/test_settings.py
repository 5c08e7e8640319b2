"""Settings come from the environment; production settings pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # OPSPORTAL_ENV_FILE empty: no .env a `make run` may have left in the checkout.
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "opsportal.settings",
            "OPSPORTAL_ENV_FILE": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_pass_with_debug_off_and_required_variables():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x7Kp2_deploy-check-secret-key-with-enough-entropy-0987654321abcdef",
        OPSPORTAL_AUDIT_SIGNING_KEY="deploy-check-audit-signing-key-0123456789",
        DJANGO_ALLOWED_HOSTS="ops.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/opsportal",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    result = run_manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_seed_demo_refuses_to_run_with_debug_off():
    result = run_manage(
        "seed_demo",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x7Kp2_deploy-check-secret-key-with-enough-entropy-0987654321abcdef",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/opsportal_never_created",
    )

    assert result.returncode != 0
    assert "refuses to run with DJANGO_DEBUG off" in result.stderr
