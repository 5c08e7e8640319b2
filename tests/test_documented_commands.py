"""Every `python manage.py ...` command the docs show works as written on a `make run`
checkout (issue 14, item 15: `issue_gate_token` failed with "DJANGO_SECRET_KEY is
required" unless debug was on in that shell).

A fresh copy of the checkout (its tracked and untracked, not ignored, files, with the
working tree's .venv) in a temporary directory runs `scripts/run-portal.sh` (what
`make run` calls, with the Makefile's DJANGO_DEBUG=1) on its SQLite default until it
serves, is stopped, and then each command found in README.md and docs/*.md runs there
in a shell with no opsportal configuration at all, as a reader would type it. A
command may be refused for a reason of its own (a `CommandError`, a failed deploy
check on a debug checkout) but must never fail on its configuration or crash.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_quickstart import (
    CONFIG_PREFIXES,
    _free_port,
    _stop,
    _wait_until_serving,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A command name first: prose such as "every `python manage.py ...` command" is no command.
COMMAND = re.compile(r"python manage\.py ([a-z_]+(?:[^`\n#]*))")
# Placeholders in the docs and what a reader would type for them.
PLACEHOLDERS = {"<app>": "accounts"}
# What the commands that ask for a password read (getpass falls back to stdin).
STDIN = "opsportal-demo\n"
COMMAND_TIMEOUT = 120
# How a command says no without a crash: Django prints these without a traceback.
CLEAN_REFUSALS = ("CommandError:", "SystemCheckError:")


def documented_commands() -> list[str]:
    """The argument strings of every `python manage.py` command in the docs, in order,
    without `[optional parts]` and with placeholders filled in."""
    found = []
    for path in DOCS:
        for match in COMMAND.finditer(path.read_text()):
            args = re.sub(r"\[[^\]]*\]", "", match.group(1))
            for placeholder, value in PLACEHOLDERS.items():
                args = args.replace(placeholder, value)
            found.append(" ".join(args.split()))
    return list(dict.fromkeys(found))


def _copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # listed but deleted in the working tree: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def _shell_env(environ: dict[str, str]) -> dict[str, str]:
    """A new shell's environment: nothing that configures opsportal."""
    return {k: v for k, v in environ.items() if not k.startswith(CONFIG_PREFIXES)}


@pytest.fixture(scope="module")
def make_run_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout after `make run` served it once."""
    checkout = tmp_path_factory.mktemp("checkout")
    _copy_checkout(checkout)
    env = {**_shell_env(dict(os.environ)), "DJANGO_DEBUG": "1", "PYTHONUNBUFFERED": "1"}
    log = checkout / "server.log"
    port = _free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["scripts/run-portal.sh", "127.0.0.1", str(port)],
            cwd=checkout,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(server, f"http://127.0.0.1:{port}", log)
    finally:
        _stop(server)
    return checkout


def test_docs_show_the_commands_this_test_runs():
    commands = documented_commands()

    assert {"issue_gate_token", "killswitch", "load_procedures", "migrate"} <= {
        c.split()[0] for c in commands
    }


def test_every_documented_command_runs_on_a_make_run_checkout(make_run_checkout):
    env = _shell_env(dict(os.environ))
    failures = {}
    for args in documented_commands():
        result = subprocess.run(
            [sys.executable, "manage.py", *shlex.split(args)],
            cwd=make_run_checkout,
            env=env,
            input=STDIN,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        refused_cleanly = any(
            line.startswith(CLEAN_REFUSALS) for line in result.stderr.splitlines()
        )
        crashed = "Traceback" in result.stderr or "ImproperlyConfigured" in result.stderr
        if crashed or (result.returncode != 0 and not refused_cleanly):
            failures[args] = result.stderr[-1500:]

    assert failures == {}
